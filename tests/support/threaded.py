"""An IRC client off the event loop: a blocking socket read and written in worker threads.

For timing what a well-behaved user sees while the in-process server is under abuse:
on the server's own event loop, the client's reading and parsing would be counted as
the server's delay, and a loaded machine would slow both at once. Here the wait and
the clock run in a thread, so the loop does nothing for this client but serve it.
It has the async surface of support.irc.IrcClient that the tests use, and like it
never sleeps: every read has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import time
from collections.abc import Callable

from chat_server.protocol.message import Message, parse_line
from support.irc import DEFAULT_TIMEOUT

Pattern = str | Callable[[Message], bool]


class ThreadedClient:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.nick = ""
        self._buffer = b""
        # Every line received, in order, for assertions about what was (not) seen.
        self.seen: list[str] = []

    @classmethod
    async def connect(cls, host: str, port: int) -> ThreadedClient:
        sock = await asyncio.to_thread(socket.create_connection, (host, port), DEFAULT_TIMEOUT)
        return cls(sock)

    # -- blocking, run in a worker thread -----------------------------------------

    def _readline(self, deadline: float) -> str | None:
        """The next line without CRLF; None at EOF."""
        while b"\r\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise TimeoutError from None
            if not chunk:
                return None
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\r\n", 1)
        line = raw.decode("utf-8", "replace")
        self.seen.append(line)
        return line

    def expect_blocking(self, pattern: Pattern, timeout: float = DEFAULT_TIMEOUT) -> Message:
        """Read lines until one matches (a regex searched in the raw line, or a predicate)."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while True:
            try:
                line = self._readline(deadline)
            except TimeoutError:
                raise AssertionError(
                    f"timed out waiting for {pattern!r}; got {self.seen[start:][-20:]}"
                ) from None
            if line is None:
                raise AssertionError(f"EOF waiting for {pattern!r}; got {self.seen[start:][-20:]}")
            if not line:
                continue
            msg = parse_line(line)
            if isinstance(pattern, str):
                if re.search(pattern, line):
                    return msg
            elif pattern(msg):
                return msg

    def round_trip(self, receiver: ThreadedClient, target: str, token: str) -> float:
        """Seconds from sending `token` to `target` to `receiver` reading it."""
        started = time.monotonic()
        self.sock.sendall(f"PRIVMSG {target} :{token}\r\n".encode())
        receiver.expect_blocking(rf" PRIVMSG {re.escape(target)} :?{re.escape(token)}$")
        return time.monotonic() - started

    # -- the async surface of IrcClient ---------------------------------------------

    async def send(self, line: str) -> None:
        await asyncio.to_thread(self.sock.sendall, line.encode() + b"\r\n")

    async def expect(self, pattern: Pattern, timeout: float = DEFAULT_TIMEOUT) -> Message:
        return await asyncio.to_thread(self.expect_blocking, pattern, timeout)

    async def register(self, nick: str) -> None:
        """Register and wait for the end of the welcome burst (MOTD end or no MOTD)."""
        await self.send(f"NICK {nick}")
        await self.send(f"USER u 0 * :Test User {nick}")
        await self.expect(r" 001 ")
        await self.expect(r" (376|422) ")
        self.nick = nick

    async def join(self, room: str) -> None:
        await self.send(f"JOIN {room}")
        await self.expect(lambda m: m.command == "366" and m.param(1).lower() == room.lower())

    async def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
