"""A real redis-server and real chat-server nodes sharing it, for the cluster tests.

Redis listens on a loopback port chosen by binding (and chosen again if another
process takes it first), keeps nothing on disk, and is stopped by its pid. Each node
is a `chat-server` subprocess in a private environment (support.hermetic) with its own
data directory, logging to a file the tests read.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from support.hermetic import hermetic_env
from support.irc import IrcClient
from support.plain import PlainClient
from support.tools import require_tool

LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """redis-server on 127.0.0.1:<port>, nothing saved; `restart` keeps the port."""

    def __init__(self, directory: Path) -> None:
        self.binary = require_tool("redis-server", apt="redis-server")
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        for _ in range(5):
            self.port = free_port()
            if self._start():
                return
        raise AssertionError("redis-server did not start on any port tried")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _start(self) -> bool:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # the port was taken: another is tried
            if ping(self.port):
                return True
            time.sleep(0.02)
        self.stop()
        return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def restart(self) -> None:
        self.kill()
        deadline = time.monotonic() + 10
        while not self._start():
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start again on {self.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class Node:
    """One chat-server of the network: its port, its log, and stopping it."""

    def __init__(self, root: Path, redis_url: str, name: str, *args: str,
                 timeout: float = 3.0, extra: str = "", port: int = 0,
                 per_ip: int = 1000) -> None:
        self.root = root / name
        self.root.mkdir(parents=True, exist_ok=True)
        self.config = self.root / "roomchat.toml"
        self.config.write_text(
            f'[store]\ndata_dir = "{self.root / "data"}"\n'
            f'[limits]\nflood_rate = 0\nmax_connections_per_ip = {per_ip}\n'
            f'[cluster]\nredis = "{redis_url}"\nnode = "{name}"\n'
            f'node_timeout = {timeout}\nheartbeat_interval = 0.5\n' + extra)
        # A node started again under the same name logs anew beside the old log.
        self.log_path = self.root / f"server-{len(list(self.root.glob('server-*.log')))}.log"
        self.env = hermetic_env(self.root)
        self.args = ["--config", str(self.config), "--port", str(port), *args]
        with self.log_path.open("ab") as log_file:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chat_server", *self.args],
                stdout=subprocess.DEVNULL, stderr=log_file, env=self.env, cwd=self.root)
        self.port = self._wait_for_port()

    def text(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def _wait_for_port(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = LISTENING.search(self.text())
            if found:
                return int(found.group(2))
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise AssertionError(f"node did not start: {self.text()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


NodeFactory = Callable[..., Node]


async def irc(opened: list[IrcClient | PlainClient], node: Node, nick: str,
              caps: tuple[str, ...] = ()) -> IrcClient:
    client = await IrcClient.connect("127.0.0.1", node.port)
    opened.append(client)
    await client.register(nick, caps)
    return client


async def plain(opened: list[IrcClient | PlainClient], node: Node, nick: str) -> PlainClient:
    client = await PlainClient.connect("127.0.0.1", node.port)
    opened.append(client)
    await client.choose_nick(nick)
    return client
