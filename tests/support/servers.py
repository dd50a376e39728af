"""Servers for tests: in-process on an ephemeral port, or a real chat-server subprocess.

Neither reads the developer's configuration nor writes into their home: the in-process
server is built from defaults with history in memory, and the subprocess gets the
private environment of support.hermetic and an explicit, empty --config.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from chat_server.app import ChatServer
from chat_server.config import Config, apply
from support.hermetic import empty_config, hermetic_env

LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")


SECTIONS = ("server", "store", "history", "accounts")


def make_config(**limits: Any) -> Config:
    """A config on 127.0.0.1:0 keeping history in memory.

    Keyword arguments set [limits] keys; `server_<key>`, `store_<key>`, `history_<key>`
    and `accounts_<key>` set keys of those sections.
    """
    config = Config()
    config.server.port = 0
    config.store.backend = "memory"
    values: dict[str, dict[str, Any]] = {section: {} for section in (*SECTIONS, "limits")}
    for key, value in limits.items():
        section = next((s for s in SECTIONS if key.startswith(s + "_")), "limits")
        values[section][key[len(section) + 1:] if section != "limits" else key] = value
    apply(config, values, "test")
    return config


@asynccontextmanager
async def running_server(**limits: Any) -> AsyncIterator[ChatServer]:
    server = ChatServer(make_config(**limits))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class ServerProcess:
    """A `chat-server` subprocess whose port is read from its own log line.

    It runs in a private environment (support.hermetic) in its own temporary
    directory, with an empty --config unless `args` names one.
    """

    def __init__(self, args: list[str], env: dict[str, str] | None = None,
                 cwd: str | Path | None = None) -> None:
        self.args = args
        self._root = tempfile.TemporaryDirectory(prefix="roomchat-server-")
        root = Path(self._root.name)
        full_env = hermetic_env(root, **(env or {}))
        config = [] if "--config" in args else ["--config", str(empty_config(root))]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chat_server", "--port", "0", *config, *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=full_env, cwd=cwd or root,
        )
        self.log: list[str] = []
        self.port = self._wait_for_port()

    def _wait_for_port(self, timeout: float = 15.0) -> int:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline().decode("utf-8", "replace")
            if not line:
                break
            self.log.append(line)
            found = LISTENING.search(line)
            if found:
                return int(found.group(2))
        self.proc.kill()
        raise AssertionError(f"server did not start: {''.join(self.log)}")

    def rest_of_log(self, timeout: float = 10.0) -> str:
        """Wait for exit and return everything it logged."""
        _, err = self.proc.communicate(timeout=timeout)
        return "".join(self.log) + err.decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)
        self._root.cleanup()


async def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    """Poll a condition that has no event to wait on (server-side state), with a bound."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
