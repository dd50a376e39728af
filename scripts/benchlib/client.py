"""One benchmark connection: registration in either dialect, then a fast receive path.

Set-up (register, join) parses lines one by one, because it happens once. Once a client
is ready, received bytes go through one compiled regular expression per chunk that pulls
out (sender id, sequence number, send timestamp) from every delivery, so the generator
spends about a microsecond per delivered line and can keep up with the server.

A benchmark message body is ``~~SENDER SEQ SENT_NS xxxx...``; the ``~~`` marker and the
three numbers are found the same way in an IRC PRIVMSG and in a plain-mode room line.

Checking every line costs the generator about 0.9 us; counting lines costs 0.05 us. So a
client either *verifies* (per-sender sequence numbers: duplicates and gaps exactly, and
the latency of every line) or *counts* (delivery lines only; loss and duplicates then
follow from the count against what was sent). Which clients verify is the scenario's
choice, so the generator can keep up with a server faster than one Python core.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import struct
import time
from collections.abc import Callable
from typing import cast

MARK = b"~~"
DELIVERY = re.compile(rb"~~(\d+) (\d+) (\d+) ")
PAD = b"x" * 65536


def clock_ns() -> int:
    """CLOCK_MONOTONIC in nanoseconds: shared by all processes on one Linux machine."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


# Linux's SO_TIMESTAMPNS (and SCM_TIMESTAMPNS): the kernel stamps each received packet
# with CLOCK_REALTIME when it reaches the socket, before the generator gets to read it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TIMESPEC = struct.Struct("@ll")


class SetupError(Exception):
    """The server refused or broke off a client's registration or join."""


class Sink:
    """Where all receivers of one run put what they measured."""

    def __init__(self) -> None:
        self.latencies_ns: list[int] = []
        self.last_delivery_ns = 0


class Client(asyncio.Protocol):
    """A registered chat connection in the IRC or the plain dialect.

    ``ready`` resolves once the client is registered and (if a room was given) has seen
    its own join; ``closed`` resolves when the connection ends. After ``measure()`` the
    client counts deliveries per sender: a sequence number above the last one seen is
    new, anything else is a duplicate; loss is what is missing at the end.
    """

    def __init__(self, nick: str, dialect: str, room: str | None) -> None:
        self.nick = nick
        self.dialect = dialect
        self.room = room
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        # A failure nobody waits for any more (its set-up already timed out) is not news.
        self.ready.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self._tail = b""
        self._registered = False
        self._sink: Sink | None = None
        # Per sender id (as bytes, to skip a conversion per line): highest sequence seen.
        self.last: dict[bytes, int] = {}
        self.unique = 0
        self.duplicates = 0
        self.unexpected = 0
        self.own_id: bytes | None = None
        self.verify = True
        self._raw: socket.socket | None = None
        self.on_progress: Callable[[], None] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start registering at once: an IRC client speaks first, so does ours."""
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        if self.dialect == "irc":
            self.transport.write(f"NICK {self.nick}\r\nUSER {self.nick} 0 * :bench\r\n".encode())
        else:
            # Not an IRC command, so the server picks plain mode, greets, and takes this
            # first line as the answer to its "Pick a nickname:".
            self.transport.write(f"{self.nick}\r\n".encode())

    def data_received(self, data: bytes) -> None:
        """Dispatch to the measuring fast path or the line-by-line set-up path."""
        if self._sink is not None:
            self._count(data, clock_ns())
        else:
            self._setup(data)

    def connection_lost(self, exc: Exception | None) -> None:
        """Resolve ``closed``; fail ``ready`` if the server hung up during set-up."""
        if not self.ready.done():
            self.ready.set_exception(SetupError(f"{self.nick}: connection closed in set-up"))
        if not self.closed.done():
            self.closed.set_result(None)

    # -- set-up ---------------------------------------------------------------------------

    def _setup(self, data: bytes) -> None:
        data = self._tail + data
        *lines, self._tail = data.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if self.dialect == "irc":
                self._irc_line(line)
            else:
                self._plain_line(line)

    def _irc_line(self, line: str) -> None:
        parts = line.split(" ")
        if parts[0] == "PING":
            self.send(f"PONG {' '.join(parts[1:])}\r\n".encode())
            return
        if parts[0] == "ERROR" or (len(parts) > 1 and parts[1] in ("432", "433", "465")):
            self._fail(line)
            return
        if len(parts) < 3:
            return
        if parts[1] == "001" and not self._registered:
            self._registered = True
            if self.room:
                self.send(f"JOIN {self.room}\r\n".encode())
            else:
                self._set_ready()
        elif parts[1] == "JOIN" and self.room:
            nick = parts[0].lstrip(":").split("!")[0]
            if nick.casefold() == self.nick.casefold():
                self._set_ready()

    def _plain_line(self, line: str) -> None:
        if line.startswith("! "):
            self._fail(line)
        elif not self._registered and line.startswith(f"Welcome, {self.nick}."):
            # Registered, and already in the server's default room.
            self._registered = True
            if self.room and self.room.casefold() != "#lobby":
                self.send(f"/join {self.room}\r\n".encode())
            else:
                self._set_ready()
        elif self._registered and self.room and " joined." in line:
            words = line.split(" ")
            if self.nick in words and self.room in words:
                self._set_ready()

    def _set_ready(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)

    def _fail(self, line: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(SetupError(f"{self.nick}: {line}"))

    # -- measuring --------------------------------------------------------------------------

    def measure(self, sink: Sink) -> None:
        """Switch to the fast path; deliveries from now on are counted into ``sink``."""
        self._sink = sink
        tail, self._tail = self._tail, b""
        if tail:
            self._count(tail, clock_ns())

    def measure_kernel_time(self, sink: Sink) -> None:
        """Like measure(), but latency ends at the kernel's receive timestamp.

        At 200 receivers per message the generator needs over a millisecond to read
        them all, and an application-side clock would add that to every later reader's
        latency. So uvloop stops reading this socket and a duplicate descriptor is read
        with recvmsg(), which returns the time the bytes reached the socket. Send times
        must then be CLOCK_REALTIME too (time.time_ns()).
        """
        assert self.transport is not None
        self._sink = sink
        self.transport.pause_reading()
        fd = self.transport.get_extra_info("socket").fileno()
        self._raw = socket.socket(fileno=os.dup(fd))
        self._raw.setblocking(False)
        self._raw.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        asyncio.get_running_loop().add_reader(self._raw.fileno(), self._read_stamped)

    def _read_stamped(self) -> None:
        assert self._raw is not None
        try:
            data, ancillary, _, _ = self._raw.recvmsg(1 << 18, 64)
        except BlockingIOError:
            return
        except OSError:
            data, ancillary = b"", []
        if not data:
            self.release()
            return
        stamp = time.time_ns()
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = TIMESPEC.unpack(value[: TIMESPEC.size])
                stamp = sec * 1_000_000_000 + nsec
        self._count(data, stamp)

    def release(self) -> None:
        """Stop reading the duplicate descriptor, if measure_kernel_time() made one."""
        if self._raw is not None:
            asyncio.get_running_loop().remove_reader(self._raw.fileno())
            self._raw.close()
            self._raw = None

    def _count(self, data: bytes, now: int) -> None:
        if self._tail:
            data = self._tail + data
        end = data.rfind(b"\n") + 1
        self._tail = data[end:]
        if b"PING" in data:
            self._answer_pings(data[:end])
        if not self.verify:
            counted = data.count(MARK, 0, end)
            if counted:
                self.unique += counted
                self._sink.last_delivery_ns = now  # type: ignore[union-attr]
            return
        last = self.last
        latencies = self._sink.latencies_ns  # type: ignore[union-attr]
        unique = 0
        for sender, seq_b, sent_b in DELIVERY.findall(data, 0, end):
            seq = int(seq_b)
            if seq > last.get(sender, -1):
                last[sender] = seq
                unique += 1
                latencies.append(now - int(sent_b))
                if sender == self.own_id:
                    self.unexpected += 1
            else:
                self.duplicates += 1
        if unique:
            self.unique += unique
            self._sink.last_delivery_ns = now  # type: ignore[union-attr]
            if self.on_progress is not None:
                self.on_progress()

    def _answer_pings(self, data: bytes) -> None:
        for raw in data.split(b"\n"):
            if raw.startswith(b"PING"):
                self.send(b"PONG" + raw[4:].rstrip(b"\r") + b"\r\n")

    # -- sending ----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Write bytes unless the connection is already gone."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def say_line(self, body: bytes) -> bytes:
        """The wire form of saying ``body`` in this client's room."""
        if self.dialect == "irc":
            return b"PRIVMSG " + self.room.encode() + b" :" + body + b"\r\n"  # type: ignore[union-attr]
        return body + b"\r\n"

    def quit_line(self) -> bytes:
        """The wire form of leaving the server."""
        return b"QUIT :bench\r\n" if self.dialect == "irc" else b"/quit bench\r\n"


async def connect(
    host: str, port: int, nick: str, dialect: str, room: str | None, timeout: float
) -> Client:
    """Open, register and join one client; raise SetupError or TimeoutError on failure."""
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: Client(nick, dialect, room), host, port), timeout
    )
    try:
        await asyncio.wait_for(asyncio.shield(client.ready), timeout)
    except BaseException:
        if client.transport is not None:
            client.transport.abort()
        raise
    return client


def body(sender: int, seq: int, sent_ns: int, size: int) -> bytes:
    """A message body of ``size`` bytes (or just the header if that is longer)."""
    head = b"~~%d %d %d " % (sender, seq, sent_ns)
    return head + PAD[: max(0, size - len(head))]
