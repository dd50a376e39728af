"""External programs some tests drive (tmux, netcat, ...): found, or the test says why not.

A missing program must never turn a test into a silent pass. Outside CI the test is
skipped with the package that provides it; when `CI` is set the test fails with the
same sentence, because scripts/test installs every program listed here (its APT_PACKAGES
variable) and a CI run that skips has checked nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True when the environment says this is a CI run (any non-empty CI but "false"/"0")."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> NoReturn:
    """Skip the running test with `reason`, or fail it with `reason` in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, *, apt: str, check: Callable[[str], bool] | None = None,
                 why: str = "") -> str:
    """The path of program `name`, which Debian package `apt` provides.

    `check` is given the path and says whether this build of the program will do (a
    netcat with -q, say); `why` names what the check wants, for the message.
    """
    path = shutil.which(name)
    hint = f"apt-get install -y {apt}; scripts/test installs it when run as root"
    if path is None:
        missing(f"{name} is not installed: {hint}")
    elif check is not None and not check(path):
        missing(f"{path} is not the {name} this test needs ({why}): {hint}")
    return path
