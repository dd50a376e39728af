"""The Dockerfile read as data: its instructions, ENV, CMD and HEALTHCHECK command.

No engine is needed to check what the image would run: tests take the command lines
and environment from here and run them on this machine with /data remapped to a
temporary directory, so the Dockerfile itself is what is tested, not a copy of it.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def only(name: str) -> str:
    found = [rest for word, rest in instructions() if word == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def image_env() -> dict[str, str]:
    """Every ENV of the image, later ones winning (`K=V K2=V2` and legacy `K V` forms)."""
    env: dict[str, str] = {}
    for word, rest in instructions():
        if word != "ENV":
            continue
        words = shlex.split(rest)
        if words and "=" not in words[0]:
            env[words[0]] = rest.split(None, 1)[1] if len(words) > 1 else ""
            continue
        for item in words:
            key, _, value = item.partition("=")
            env[key] = value
    return env


def exec_form(arguments: str) -> list[str]:
    """A CMD in exec (JSON) form, which the image must use: no shell between it and PID 1."""
    command = json.loads(arguments)
    assert isinstance(command, list) and all(isinstance(a, str) for a in command), arguments
    return command


def final_workdir() -> str:
    """The working directory the CMD runs in: the last WORKDIR."""
    return [rest for word, rest in instructions() if word == "WORKDIR"][-1]


def cmd() -> list[str]:
    return exec_form(only("CMD"))


def healthcheck() -> tuple[dict[str, str], list[str]]:
    """The HEALTHCHECK's options (`--timeout` -> "5s") and its command."""
    options, _, command = only("HEALTHCHECK").partition(" CMD ")
    parsed = dict(option.lstrip("-").split("=", 1) for option in options.split())
    return parsed, exec_form(command)


def seconds(duration: str) -> float:
    """A Dockerfile duration ("5s", "1m30s") in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


def remapped(value: str, data: Path) -> str:
    """`value` with the image's /data volume moved to `data`."""
    if value == "/data" or value.startswith("/data/"):
        return str(data) + value[len("/data"):]
    return value
