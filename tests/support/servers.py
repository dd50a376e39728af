"""Servers for tests: in-process on an ephemeral port, or a real chat-server subprocess."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from chat_server.app import ChatServer
from chat_server.config import Config, apply

LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")


def make_config(**limits: Any) -> Config:
    """A config on 127.0.0.1:0; keyword arguments set [limits] keys, `server_<key>` [server]."""
    config = Config()
    config.server.port = 0
    server = {k[len("server_"):]: v for k, v in limits.items() if k.startswith("server_")}
    rest = {k: v for k, v in limits.items() if not k.startswith("server_")}
    apply(config, {"server": server, "limits": rest}, "test")
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
    """A `chat-server` subprocess whose port is read from its own log line."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None,
                 cwd: str | Path | None = None) -> None:
        self.args = args
        full_env = {**os.environ, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chat_server", "--port", "0", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=full_env, cwd=cwd,
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


async def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    """Poll a condition that has no event to wait on (server-side state), with a bound."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
