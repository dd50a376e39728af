"""A raw IRC client for tests: sends lines, waits for the line it expects (never sleeps)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable

from chat_server.protocol.message import Message, parse_line

DEFAULT_TIMEOUT = 5.0


class IrcClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.nick = ""
        # Every line received, in order, for assertions about what was (not) seen.
        self.seen: list[str] = []

    @classmethod
    async def connect(cls, host: str, port: int) -> IrcClient:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer)

    async def send(self, line: str) -> None:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def readline(self, timeout: float = DEFAULT_TIMEOUT) -> str:
        """The next line without CRLF; '' at EOF."""
        raw = await asyncio.wait_for(self.reader.readline(), timeout)
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if raw:
            self.seen.append(line)
        return line

    async def expect(
        self,
        pattern: str | Callable[[Message], bool],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Message:
        """Read lines until one matches (a regex searched in the raw line, or a predicate)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        skipped: list[str] = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r}; got {skipped[-20:]}")
            try:
                line = await self.readline(remaining)
            except TimeoutError:
                raise AssertionError(
                    f"timed out waiting for {pattern!r}; got {skipped[-20:]}"
                ) from None
            if line == "" and self.reader.at_eof():
                raise AssertionError(f"EOF waiting for {pattern!r}; got {skipped[-20:]}")
            if not line:
                continue
            msg = parse_line(line)
            if callable(pattern) and not isinstance(pattern, str):
                if pattern(msg):
                    return msg
            elif re.search(pattern, line):
                return msg
            skipped.append(line)

    async def register(self, nick: str, caps: tuple[str, ...] = (), user: str = "u") -> None:
        """Register and wait for the end of the welcome burst (MOTD end or no MOTD)."""
        if caps:
            await self.send("CAP LS 302")
            await self.send("CAP REQ :" + " ".join(caps))
            await self.expect(r" CAP \S+ ACK ")
        await self.send(f"NICK {nick}")
        await self.send(f"USER {user} 0 * :Test User {nick}")
        if caps:
            await self.send("CAP END")
        await self.expect(r" 001 ")
        await self.expect(r" (376|422) ")
        self.nick = nick

    async def join(self, room: str) -> None:
        await self.send(f"JOIN {room}")
        await self.expect(lambda m: m.command == "366" and m.param(1).lower() == room.lower())

    async def at_eof(self, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        """Read until the server closes; the lines read on the way."""
        lines: list[str] = []
        while True:
            line = await self.readline(timeout)
            if line == "" and self.reader.at_eof():
                return lines
            lines.append(line)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


# The `connect` fixture: connect() opens a raw client, connect("bob") registers bob too.
ClientFactory = Callable[..., Awaitable[IrcClient]]
