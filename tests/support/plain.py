"""Plain mode in tests: a netcat-like client over a socket, and a link with no socket.

Like the IRC test client, `PlainClient` never sleeps: it waits for the line it expects,
with a timeout, and keeps every line it received for assertions about what was (not)
seen. `FakeLink` stands in for a connection so sessions can be driven by plain calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from chat_server.app import ChatServer
from chat_server.hub.hub import Hub, HubSettings
from chat_server.session.irc import IrcSession
from chat_server.session.plain import PlainSession

DEFAULT_TIMEOUT = 5.0
TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")


def untimed(line: str) -> str:
    """The line without its leading [HH:MM:SS] timestamp, if it has one."""
    return TIMESTAMP.sub("", line)


class PlainClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.seen: list[str] = []

    @classmethod
    async def connect(cls, host: str, port: int) -> PlainClient:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer)

    async def send(self, line: str) -> None:
        """Type a line and press Enter (netcat sends LF only)."""
        await self.send_raw(line.encode() + b"\n")

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def readline(self, timeout: float = DEFAULT_TIMEOUT) -> str:
        """The next line without its line end; '' at EOF."""
        try:
            raw = await asyncio.wait_for(self.reader.readline(), timeout)
        except TimeoutError:
            raise AssertionError(f"no line within {timeout}s; got {self.seen[-20:]}") from None
        if not raw:
            return ""
        assert raw.endswith(b"\r\n"), f"a plain line must end in CRLF: {raw!r}"
        line = raw[:-2].decode("utf-8")  # strict: the server never sends broken UTF-8
        self.seen.append(line)
        return line

    async def next(self, timeout: float = DEFAULT_TIMEOUT) -> str:
        """The next line, timestamp removed; fails at EOF."""
        line = await self.readline(timeout)
        if not line and self.reader.at_eof():
            raise AssertionError(f"EOF; got {self.seen[-20:]}")
        return untimed(line)

    async def expect(self, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Read until a line matches the regex; that line (timestamp kept)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        start = len(self.seen)
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r}; got {self.seen[start:]}")
            line = await self.readline(remaining)
            if not line and self.reader.at_eof():
                raise AssertionError(f"EOF waiting for {pattern!r}; got {self.seen[start:]}")
            if re.search(pattern, line):
                return line

    async def choose_nick(self, nick: str) -> str:
        """Type a nickname (before or after the prompt appears); the welcome line."""
        await self.send(nick)
        return await self.expect(r"^Welcome, ")

    async def at_eof(self, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        """Read until the server closes; the lines read on the way."""
        lines: list[str] = []
        while True:
            line = await self.readline(timeout)
            if not line and self.reader.at_eof():
                return lines
            lines.append(line)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


# plain() opens a silent connection; plain("张三") also answers the prompt.
PlainFactory = Callable[..., Awaitable[PlainClient]]


@asynccontextmanager
async def plain_clients_of(server: ChatServer) -> AsyncIterator[PlainFactory]:
    opened: list[PlainClient] = []

    async def factory(nick: str | None = None) -> PlainClient:
        host, port = server.addresses[0]
        client = await PlainClient.connect(host, port)
        opened.append(client)
        if nick is not None:
            await client.choose_nick(nick)
        return client

    try:
        yield factory
    finally:
        for client in opened:
            await client.close()


# -- without sockets -----------------------------------------------------------------


class FakeTimer:
    def __init__(self, delay: float, callback: Callable[[], None]) -> None:
        self.delay = delay
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        assert not self.cancelled, "a cancelled timer fired"
        self.callback()


class FakeLink:
    def __init__(self) -> None:
        self.remote_host = "127.0.0.1"
        # A plaintext connection with no client certificate.
        self.secure = False
        self.certfp = ""
        self.out = bytearray()
        self.closed: str | None = None
        self.timers: list[FakeTimer] = []
        self.session: object = None

    def write(self, data: bytes) -> None:
        self.out += data

    def hand_over(self, session: object) -> None:
        self.session = session

    def close(self, reason: str = "") -> None:
        self.closed = reason

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(delay, callback)
        self.timers.append(timer)
        return timer

    def take(self) -> list[str]:
        """The lines written since the last take, CRLF checked and removed."""
        data = bytes(self.out)
        self.out.clear()
        assert not data or data.endswith(b"\r\n"), data
        return data.decode("utf-8").split("\r\n")[:-1]


def new_hub() -> Hub:
    return Hub(HubSettings(name="example.org"))


def plain_user(hub: Hub, nick: str) -> tuple[PlainSession, FakeLink]:
    link = FakeLink()
    session = PlainSession(hub, link, "#lobby")
    session.on_line(nick.encode())
    assert session.user.registered, link.take()
    link.take()
    return session, link


def irc_user(hub: Hub, nick: str) -> tuple[IrcSession, FakeLink]:
    link = FakeLink()
    session = IrcSession(hub, link)
    session.on_line(f"NICK {nick}".encode())
    session.on_line(f"USER {nick} 0 * :{nick}".encode())
    assert session.user.registered
    link.take()
    return session, link
