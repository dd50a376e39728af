"""The web port in tests: posting tokens, and a chat-server process with [web] on.

The process variant is for browser tests, whose WebDriver calls block: the server must
not share their thread's event loop.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from support.servers import ServerProcess

DEPLOY_TOKEN = "deploy-0123456789abcdef"
ANY_ROOM_TOKEN = "anyroom-0123456789abcdef"

TOKENS = f"""
[[token]]
token = "{DEPLOY_TOKEN}"
nick = "deploybot"
rooms = ["#lobby", "#ops"]

[[token]]
token = "{ANY_ROOM_TOKEN}"
nick = "anybot"
rooms = ["*"]
"""

WEB_PAGE = re.compile(r"web page at (http://[\d.]+:\d+/)")


def write_tokens(directory: Path) -> Path:
    path = directory / "tokens.toml"
    path.write_text(TOKENS, encoding="utf-8")
    return path


def web_server_process(directory: Path, *args: str,
                       toml: str = "") -> tuple[ServerProcess, str]:
    """A chat-server process with the web port on an ephemeral port, history in memory,
    and `toml` added to its configuration; the process and the page's address, read
    from its log."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "roomchat.toml"
    config.write_text(
        f'[store]\nbackend = "memory"\n\n[web]\nlisten = "127.0.0.1:0"\n'
        f'tokens_file = "{write_tokens(directory)}"\n\n{toml}', encoding="utf-8")
    server = ServerProcess(["--config", str(config), *args])
    assert server.proc.stderr is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = server.proc.stderr.readline().decode("utf-8", "replace")
        if not line:
            break
        server.log.append(line)
        found = WEB_PAGE.search(line)
        if found:
            return server, found.group(1)
    server.stop()
    raise AssertionError(f"no web page address in the log: {''.join(server.log)}")
