"""Listening sockets, connection admission, timeouts, and orderly shutdown.

Owns the set of open connections, plaintext and TLS alike under one set of limits:
per-IP and total limits on admission, one periodic sweep for registration and ping
timeouts (cheaper than a timer per connection), the totals the metrics read, and the
order of shutdown: stop listening, let the app say goodbye, wait with a bound, cut
what is left. Knows nothing of IRC. Must not import the hub.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from collections.abc import Callable

from chat_server.config import LimitsSection
from chat_server.transport.connection import (
    KERNEL_SNDBUF_BYTES,
    Connection,
    Flusher,
    Session,
    TransportStats,
)
from chat_server.transport.tls import Certificates

log = logging.getLogger("chat_server.server")

SessionFactory = Callable[[Connection], Session]
# What a listening socket makes of each accepted connection: a Connection (the chat
# port) or a subclass framing another protocol (the web port), under the same limits.
ConnectionFactory = Callable[["Listener", Certificates | None], Connection]

# Pending connections the kernel may queue while the loop is busy: a reconnect storm
# after a restart must not meet refused connections.
BACKLOG = 1024


def bind(host: str, port: int, *, reuse_port: bool = False) -> list[socket.socket]:
    """Bind and listen without an event loop (before a daemon detaches); raises OSError.

    One socket per address `host` resolves to, as `loop.create_server` would make.
    `reuse_port` (SO_REUSEPORT) lets the workers of --workers each listen on the port.
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    socks: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                # Otherwise the IPv6 socket also claims the IPv4 port bound next to it.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return socks


class Listener:
    def __init__(
        self,
        limits: LimitsSection,
        session_factory: SessionFactory,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.limits = limits
        self.session_factory = session_factory
        self.loop = loop or asyncio.get_running_loop()
        self.flusher = Flusher(self.loop)
        self.connections: set[Connection] = set()
        self.per_ip: Counter[str] = Counter()
        self.stats = TransportStats()
        # Connections accepted since start, by "tcp" or "tls".
        self.accepted: Counter[str] = Counter()
        # Told of every connection as it ends, its close_reason set (the metrics).
        self.on_closed: list[Callable[[Connection], None]] = []
        self._servers: list[asyncio.Server] = []
        self.tls_servers: list[asyncio.Server] = []
        self._sweeper: asyncio.TimerHandle | None = None
        self._all_closed = asyncio.Event()
        self._all_closed.set()

    async def listen(
        self, host: str, port: int, tls: Certificates | None = None,
        connection: ConnectionFactory = Connection,
    ) -> list[tuple[str, int]]:
        """Bind and start accepting; returns the bound addresses (port 0 picks one)."""
        server = await self.loop.create_server(
            lambda: connection(self, tls), host, port, reuse_address=True, backlog=BACKLOG
        )
        if tls is not None:
            self.tls_servers.append(server)
        return self._serving(server)

    async def listen_socket(
        self, sock: socket.socket, tls: Certificates | None = None,
        connection: ConnectionFactory = Connection,
    ) -> list[tuple[str, int]]:
        """Start accepting on a socket from `bind`; the listener owns it from now on.

        With `tls`, each connection handshakes first (the transport's TLS is not the
        loop's: admission and the registration timeout must cover the handshake too).
        """
        # The loop listens again on the socket: pass the backlog or it shrinks to 100.
        server = await self.loop.create_server(lambda: connection(self, tls), sock=sock,
                                               backlog=BACKLOG)
        if tls is not None:
            self.tls_servers.append(server)
        return self._serving(server)

    def serving(self) -> bool:
        """True while every listening socket accepts (the health check's first half)."""
        return bool(self._servers) and all(server.is_serving() for server in self._servers)

    def _serving(self, server: asyncio.Server) -> list[tuple[str, int]]:
        self._servers.append(server)
        self.cap_send_buffers()
        if self._sweeper is None:
            self._schedule_sweep()
        return [sock.getsockname()[:2] for sock in server.sockets]

    def cap_send_buffers(self) -> None:
        """Bound every future connection's kernel send buffer (KERNEL_SNDBUF_BYTES, or
        sendq_bytes when smaller): accepted sockets inherit it from the listening one.
        Called again when a reload changes the limits."""
        size = min(self.limits.sendq_bytes, KERNEL_SNDBUF_BYTES)
        for server in self._servers:
            for sock in server.sockets:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)

    # -- admission --------------------------------------------------------------

    def admit(self, conn: Connection) -> None:
        """Count a new connection; on a TLS port its session starts after the handshake."""
        self.connections.add(conn)
        self._all_closed.clear()
        self.per_ip[conn.remote_host] += 1
        self.accepted["tcp" if conn.tls is None else "tls"] += 1

    def start_session(self, conn: Connection) -> None:
        """Give the connection its session, then apply the admission limits.

        Limits are checked only now so that the session can tell the client why it is
        refused (over TLS that needs the handshake first).
        """
        conn.session = self.session_factory(conn)
        log.info("connect %s%s (%d open)", conn.remote, " tls" if conn.secure else "",
                 len(self.connections))
        if len(self.connections) > self.limits.max_connections:
            conn.drop("Server is full")
        elif self.per_ip[conn.remote_host] > self.limits.max_connections_per_ip:
            conn.drop("Too many connections from your address")

    def closed(self, conn: Connection) -> None:
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        self.per_ip[conn.remote_host] -= 1
        if self.per_ip[conn.remote_host] <= 0:
            del self.per_ip[conn.remote_host]
        label = conn.session.label if conn.session is not None else "-"
        log.info(
            "disconnect %s nick=%s reason=%s (%d open)",
            conn.remote, label, conn.close_reason or "closed", len(self.connections),
        )
        for watcher in self.on_closed:
            watcher(conn)
        if not self.connections:
            self._all_closed.set()

    # -- timeouts ---------------------------------------------------------------

    def _sweep_interval(self) -> float:
        lim = self.limits
        return max(0.05, min(1.0, lim.registration_timeout / 4, lim.ping_timeout / 4,
                             lim.ping_interval / 4))

    def _schedule_sweep(self) -> None:
        self._sweeper = self.loop.call_later(self._sweep_interval(), self._sweep)

    def _sweep(self) -> None:
        now = self.loop.time()
        lim = self.limits
        for conn in list(self.connections):
            session = conn.session
            if conn.closing:
                continue
            # A TLS connection has no session until its handshake is done: the
            # handshake spends the registration timeout too.
            if session is None or not session.ready:
                if now - conn.opened > lim.registration_timeout:
                    conn.drop("Registration timeout")
                continue
            if conn.pinged_at is None:
                if now - conn.last_read > lim.ping_interval:
                    conn.pinged_at = now
                    session.on_idle()
            elif now - conn.pinged_at > lim.ping_timeout:
                conn.drop(f"Ping timeout: {int(now - conn.last_read)} seconds")
        self._schedule_sweep()

    # -- shutdown ---------------------------------------------------------------

    def stop_listening(self) -> None:
        for server in self._servers:
            server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()

    async def wait_closed(self, timeout: float) -> None:
        """Wait for connections to finish closing; abort the ones that will not."""
        try:
            await asyncio.wait_for(self._all_closed.wait(), timeout)
        except TimeoutError:
            for conn in list(self.connections):
                if conn.transport is not None:
                    conn.transport.abort()
            await asyncio.wait_for(self._all_closed.wait(), 1.0)
        for server in self._servers:
            await server.wait_closed()
