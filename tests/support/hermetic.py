"""A private world for every server and client a test starts as a subprocess.

Owns the environment those processes get: no inherited ROOMCHAT_* or NOTIFY_SOCKET
variables, and HOME and every XDG base directory inside the test's temporary
directory. The private config home holds an empty roomchat.toml, which the server's
search finds before /etc/roomchat/roomchat.toml (first match wins), so neither a
developer's ~/.config/roomchat nor an installed system file can change a result, and
nothing is written into their home or data directories. A subprocess imports the
chat_server of the tree these tests are in (PYTHONPATH), not whichever checkout the
environment's editable install points at.
"""

from __future__ import annotations

import os
from pathlib import Path

# The base directories a program may read or write behind a test's back.
XDG_DIRS = {
    "XDG_CONFIG_HOME": "config",
    "XDG_DATA_HOME": "data",
    "XDG_STATE_HOME": "state",
    "XDG_CACHE_HOME": "cache",
    "XDG_RUNTIME_DIR": "runtime",
}
# Variables of the developer's session that change what a server or client does.
DROPPED_PREFIXES = ("ROOMCHAT_", "XDG_")
DROPPED = frozenset({"NOTIFY_SOCKET", "HOME"})
# The tree these tests belong to (tests/support/ is two levels down).
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def hermetic_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment for a subprocess, its directories made under `root/hermetic`."""
    base = root / "hermetic"
    env = {
        key: value for key, value in os.environ.items()
        if key not in DROPPED and not key.startswith(DROPPED_PREFIXES)
    }
    env["HOME"] = str(base / "home")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SOURCE_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    for variable, name in XDG_DIRS.items():
        env[variable] = str(base / name)
    for path in (base / "home", *(base / name for name in XDG_DIRS.values())):
        path.mkdir(parents=True, exist_ok=True)
    (base / "runtime").chmod(0o700)
    user_config = base / "config" / "roomchat" / "roomchat.toml"
    user_config.parent.mkdir(exist_ok=True)
    if not user_config.exists():
        user_config.write_text("# Empty: the server's defaults, never /etc/roomchat.\n")
    env.update(extra)
    return env


def empty_config(root: Path) -> Path:
    """An empty server configuration file, for `--config` (defaults, and nothing else)."""
    path = root / "hermetic" / "empty.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return path
