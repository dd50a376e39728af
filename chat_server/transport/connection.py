"""One client connection: bytes to lines, lines to the session, queued bytes to the socket.

Owns the limits that protect the server from one client: line length, flood control
(a token bucket that delays reading, then cuts off), the send-queue bound, write
coalescing (one socket write per connection per loop turn), and on a TLS port the
handshake, within the registration timeout. Counts bytes and deliveries in plain
integers, per read and per flush, for the metrics to collect when scraped. Knows
nothing of IRC: the session decides what a line means and what a goodbye looks like.
Must not import the hub.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from chat_server.protocol.framing import LineFramer, Overlong
from chat_server.transport.tls import Certificates, TlsLayer

if TYPE_CHECKING:
    from chat_server.transport.server import Listener

log = logging.getLogger("chat_server.connection")

# Cap on the kernel's send buffer for one client. Left alone, Linux grows it up to
# tcp_wmem's maximum (4 MB by default), so a client that stops reading would hold
# megabytes in the kernel before the send-queue bound saw a single byte. Capped, what
# one stalled client costs is about sendq_bytes plus this. Set on the listening
# sockets (Listener.cap_send_buffers), which accepted ones inherit it from: asking for
# each connection's socket object would keep one (72 B) per connection.
KERNEL_SNDBUF_BYTES = 64 * 1024

# After the client's EOF, how long its unfinished work (flood-delayed lines, commands
# waiting on a password check) may still run and be answered, and how often to look.
EOF_GRACE = 10.0
EOF_POLL = 0.02

# The first byte of every TLS connection: a handshake record (RFC 8446 5.1,
# ContentType.handshake = 22). Anything else on the TLS port is not TLS at all.
TLS_HANDSHAKE_RECORD = b"\x16"


class Framer(Protocol):
    """Cuts what arrives into items for the session: the LineFramer's lines (bytes) and
    Overlong markers; the web port's framer adds HTTP requests, which its Connection
    subclass dispatches."""

    def feed(self, data: bytes) -> list[Any]: ...


class Session(Protocol):
    """What the transport drives: the dialect sitting on top of this connection."""

    @property
    def ready(self) -> bool:
        """True once registered; until then the registration timeout applies."""

    @property
    def label(self) -> str:
        """How logs name this client."""

    def on_line(self, raw: bytes) -> None: ...

    def on_overlong(self) -> None: ...

    def on_idle(self) -> None:
        """The client has been silent for the ping interval: ask it to answer."""

    def terminate(self, reason: str) -> None:
        """Drop the client for `reason`, telling it and everyone who should know."""

    def connection_lost(self, reason: str) -> None:
        """The connection ended by itself (EOF, reset)."""

    @property
    def busy(self) -> bool:
        """Work the client started is still running off the loop (a password check),
        and its next lines wait for it."""


class TransportStats:
    """Totals since start, kept as plain integers: a lock-taking counter per delivery
    would cost more than the delivery. Read at scrape time."""

    __slots__ = ("bytes_in", "bytes_out", "deliveries", "flushes")

    def __init__(self) -> None:
        self.bytes_in = 0
        self.bytes_out = 0
        # Pieces of output queued (one per hub write: a line or a burst) ...
        self.deliveries = 0
        # ... and the socket writes they were coalesced into.
        self.flushes = 0


class Flusher:
    """Writes every connection's queued bytes once, at the end of the loop turn.

    On uvloop a write to an idle transport is an immediate send() system call; queuing
    a turn's deliveries and writing them in one call is what makes fan-out cheap.
    """

    __slots__ = ("_last", "_loop", "_pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # A set: a room's fan-out wakes all its members at once, queued or not.
        self._pending: set[Connection] = set()
        # The members woken last this turn: a room's next line in the same turn wakes
        # nobody new.
        self._last: list[Connection] | None = None

    def schedule(self, conn: Connection) -> None:
        if not self._pending:
            self._loop.call_soon(self._run)
        self._pending.add(conn)

    def wake(self, conns: list[Connection]) -> None:
        """Connections whose queues (`Connection.outbox`) were appended to directly.
        The hub hands the same list for the same members until they change."""
        if not self._pending:
            self._loop.call_soon(self._run)
        elif conns is self._last:
            return
        self._last = conns
        self._pending.update(conns)

    def _run(self) -> None:
        pending, self._pending = self._pending, set()
        self._last = None
        for conn in pending:
            conn.flush()


class Connection(asyncio.Protocol):
    __slots__ = (
        "_abort_handle",
        "_backlog",
        "_eof_at",
        "_framer",
        "_out",
        "_paused",
        "_shared",
        "_tls",
        "_tokens",
        "_tokens_at",
        "certfp",
        "close_reason",
        "closing",
        "last_read",
        "listener",
        "opened",
        "pinged_at",
        "remote",
        "remote_host",
        "secure",
        "session",
        "tls",
        "transport",
    )

    def __init__(self, listener: Listener, tls: Certificates | None = None) -> None:
        self.listener = listener
        # The certificates of a TLS port: the handshake comes first, then the session.
        self.tls = tls
        self.secure = False
        self.certfp = ""
        self._tls: TlsLayer | None = None
        limits = listener.limits
        self._framer: Framer = LineFramer(limits.max_line_bytes)
        # What waits for the end of the loop turn; None while idle, unless handed out
        # by `outbox`, after which it is kept (and emptied) for good.
        self._out: list[bytes] | None = None
        self._shared = False
        # Made on the first flood-controlled read: an idle connection should not pay for it.
        self._backlog: deque[bytes | Overlong] | None = None
        # A full bucket; an int, shared, until the first flood-controlled read.
        self._tokens: float = limits.flood_burst
        self._tokens_at = 0.0
        self._paused = False
        self._abort_handle: asyncio.TimerHandle | None = None
        # When the client half-closed with work of its own unfinished; 0: it has not.
        self._eof_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        self.closing = False
        self.close_reason = ""
        self.remote_host = "unknown"
        self.remote = "unknown"
        self.opened = self.last_read = 0.0
        self.pinged_at: float | None = None

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        peer = self.transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            # One string per address, however many connections come from it (the
            # user's host and prefix are built from it).
            self.remote_host = sys.intern(str(peer[0]))
            self.remote = f"{peer[0]}:{peer[1]}"
        self.opened = self.last_read = self.listener.loop.time()
        self._tokens_at = self.opened
        self.listener.admit(self)
        if self.tls is None:
            self.listener.start_session(self)
        else:
            # The session starts once the handshake is done, within the registration
            # timeout; the context is the one in use now (a reload does not touch it).
            self._tls = TlsLayer(self.tls.context)

    def data_received(self, data: bytes) -> None:
        self.last_read = self.listener.loop.time()
        self.pinged_at = None
        if self.closing:
            return
        if self._tls is not None:
            data = self._decrypt(self._tls, data)
            if not data or self.closing:
                return
        self.listener.stats.bytes_in += len(data)
        items = self._framer.feed(data)
        if items:
            self._take(items)

    def _decrypt(self, layer: TlsLayer, data: bytes) -> bytes:
        """Plaintext from the client's records; the session starts with the handshake's end."""
        handshaking = not layer.established
        try:
            plain = layer.receive(data)
        except ssl.SSLError as exc:
            # Plaintext on the TLS port, garbage, a CA we do not know: the client's
            # doing, worth a debug line and a count, never a traceback.
            if handshaking and not data.startswith(TLS_HANDSHAKE_RECORD):
                # Not TLS at all: someone forgot --tls. A plain line is all they can read.
                self._write_raw(f"ERROR :Closing Link: {self.remote_host} (This port is "
                                "for TLS: connect with TLS)\r\n".encode())
            else:
                self._send_tls_output(layer)
            log.debug("TLS from %s failed: %s", self.remote, exc)
            self.drop("TLS handshake failed" if handshaking else "TLS error")
            return b""
        if layer.peer_closed and self.transport is not None:
            # close_notify: the client is done. Answer it and end, as after a FIN.
            layer.close()
            self._send_tls_output(layer)
            self.transport.close()
            return plain
        self._send_tls_output(layer)
        if handshaking and layer.established:
            self.secure = True
            self.certfp = layer.certfp()
            self.listener.start_session(self)
        return plain

    def _send_tls_output(self, layer: TlsLayer) -> None:
        self._write_raw(layer.output())

    def _write_raw(self, data: bytes) -> None:
        """Straight to the socket, outside TLS and the coalesced writes."""
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _take(self, items: list[bytes | Overlong]) -> None:
        if self.listener.limits.flood_rate <= 0:
            for item in items:
                self._dispatch(item)
                if self.closing:
                    return
            return
        if self._backlog is None:
            self._backlog = deque(items)
        else:
            self._backlog.extend(items)
        self._drain()

    def eof_received(self) -> bool:
        """The client has sent all it will (a script piped into nc, say). What it sent
        still runs and is answered, its flood-delayed lines and the commands waiting on
        a password check included; then the connection ends as if it had closed."""
        if self.closing or not self._unfinished():
            return False
        self._eof_at = self.listener.loop.time()
        self.listener.loop.call_later(EOF_POLL, self._after_eof)
        return True  # keep writing until it is done

    def _unfinished(self) -> bool:
        session = self.session
        return bool(self._backlog) or (session is not None and session.busy)

    def _after_eof(self) -> None:
        if self.closing:
            return
        if self._unfinished() and self.listener.loop.time() - self._eof_at < EOF_GRACE:
            self.listener.loop.call_later(EOF_POLL, self._after_eof)
            return
        self.close_reason = "Connection closed"
        self._call_session("connection_lost", self.close_reason)
        self.close(self.close_reason)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._abort_handle is not None:
            self._abort_handle.cancel()
        if not self.closing:
            self.closing = True
            if self._tls is not None and not self._tls.established:
                self.close_reason = "TLS handshake failed"
            else:
                self.close_reason = (
                    "Connection closed" if exc is None
                    else f"Connection error: {getattr(exc, 'strerror', None) or exc}"
                )
            self._call_session("connection_lost", self.close_reason)
        self._out = None
        self._shared = False
        self._backlog = None
        self.listener.closed(self)

    # -- reading with flood control -------------------------------------------------

    def _drain(self) -> None:
        limits = self.listener.limits
        now = self.listener.loop.time()
        self._tokens = min(
            float(limits.flood_burst), self._tokens + (now - self._tokens_at) * limits.flood_rate
        )
        self._tokens_at = now
        backlog = self._backlog
        if backlog is None:
            return
        while backlog and not self.closing:
            if self._tokens < 1.0:
                break
            self._tokens -= 1.0
            self._dispatch(backlog.popleft())
        if self.closing or not backlog:
            if self._paused and not self.closing and self.transport is not None:
                self._paused = False
                self.transport.resume_reading()
            return
        if len(backlog) > limits.flood_backlog:
            self.drop("Excess Flood")
            return
        if not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        # Come back when the next token is due.
        self.listener.loop.call_later((1.0 - self._tokens) / limits.flood_rate, self._drain)

    def _dispatch(self, item: bytes | Overlong) -> None:
        if isinstance(item, Overlong):
            self._call_session("on_overlong")
        else:
            self._call_session("on_line", item)

    def _call_session(self, name: str, *args: object) -> None:
        """Run a session callback; a bug in one command must not take the server down."""
        session = self.session
        if session is None:
            return
        try:
            getattr(session, name)(*args)
        except Exception:
            log.exception("error handling %s from %s (%s)", name, self.remote, session.label)

    # -- writing ----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.closing and self._abort_handle is not None:
            return
        out = self._out
        if out is None:
            self._out = [data]
            self.listener.flusher.schedule(self)
        else:
            if not out:
                self.listener.flusher.schedule(self)
            out.append(data)

    def outbox(self) -> tuple[list[bytes], Connection, Callable[[list[Connection]], None]] | None:
        """The queue itself, for the hub to append whole lines to in bulk (a room's
        fan-out), with what to tell the flusher; none once closing."""
        if self.closing:
            return None
        out = self._out
        if out is None:
            out = self._out = []
        self._shared = True
        return out, self, self.listener.flusher.wake

    def flush(self) -> None:
        out = self._out
        if not out:
            return
        pieces = len(out)
        data = out[0] if pieces == 1 else b"".join(out)
        if self._shared:
            out.clear()  # the hub holds on to this list
        else:
            self._out = None
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        stats = self.listener.stats
        stats.deliveries += pieces
        stats.flushes += 1
        stats.bytes_out += len(data)
        layer = self._tls
        if layer is not None:
            layer.send(data)
            data = layer.output()
        transport.write(data)
        if self._abort_handle is not None:
            self._finish(transport)
        elif transport.get_write_buffer_size() > self.listener.limits.sendq_bytes:
            self.drop("SendQ exceeded")

    # -- closing ----------------------------------------------------------------

    def drop(self, reason: str) -> None:
        """The transport's own decision to cut a client off; the session says goodbye."""
        if self.closing:
            return
        log.debug("dropping %s: %s", self.remote, reason)
        self._call_session("terminate", reason)
        self.close(reason)

    def close(self, reason: str = "") -> None:
        """Close after what is queued has been written, or cut it short after a grace."""
        if self._abort_handle is not None:
            return
        if not self.closing:
            self.closing = True
            self.close_reason = reason
        elif reason and not self.close_reason:
            self.close_reason = reason
        transport = self.transport
        if transport is None:
            return
        self._abort_handle = self.listener.loop.call_later(
            self.listener.limits.shutdown_grace, transport.abort
        )
        if self._shared:
            # Rooms may still append to the list handed out until the hub lets the
            # user go: nothing of theirs may follow the goodbye.
            self._shared = False
            self._out = self._out[:] if self._out else None
        if self._out is None:
            self._finish(transport)
        # Otherwise flush() writes the goodbye this turn, then finishes.

    def _finish(self, transport: asyncio.Transport) -> None:
        """End the connection without losing the goodbye.

        Closing a socket that still holds unread input (a flooder's, say) makes the
        kernel reset the connection and throw away what it had not sent yet, the ERROR
        line included. A half-close sends everything, then FIN; input is read and
        discarded until the client closes its side or the grace timer aborts.
        """
        layer = self._tls
        if layer is not None and layer.established:
            layer.close()
            self._send_tls_output(layer)
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        if self._paused:
            self._paused = False
            transport.resume_reading()

    def hand_over(self, session: Session) -> None:
        """A session that only chose the dialect passes the connection to the one it chose."""
        self.session = session

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """Timers for sessions, which may not touch the loop themselves."""
        return self.listener.loop.call_later(delay, callback)
