"""Prometheus metrics and a health check, served over HTTP on the event loop.

Owns what is measured and how it is exposed: the server's own totals are plain
integers kept by the transport (bytes, deliveries, accepted connections) and the hub
(commands run), read by a collector only when scraped, so the fan-out path pays no
lock per delivery; what only the ops layer can see (why connections ended, what
dialect they spoke, how late the loop runs) is counted here. `/metrics` is the
Prometheus text format from prometheus_client itself; `/healthz` says 200 while every
listener accepts and the store writes, 503 otherwise. Reads the transport, hub,
sessions and store; nothing below imports this module.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Protocol, cast

from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from chat_server.hub.hub import Hub
from chat_server.session.irc import IrcSession
from chat_server.session.plain import PlainSession
from chat_server.store.base import COMMIT_BUCKETS, Store
from chat_server.transport.connection import Connection
from chat_server.transport.server import Listener

log = logging.getLogger("chat_server.metrics")

# Chat commands: what "messages in" counts among the commands run.
MESSAGE_COMMANDS = ("PRIVMSG", "NOTICE")

# How a close reason (the words the user was told, or the transport's) is counted. The
# first prefix that matches wins; anything else is "other".
REASONS = (
    ("Quit", "quit"),
    ("Ping timeout", "ping_timeout"),
    ("Registration timeout", "registration_timeout"),
    ("Excess Flood", "excess_flood"),
    ("SendQ exceeded", "sendq"),
    ("Too many connections from your address", "per_ip_limit"),
    ("Server is full", "server_full"),
    ("TLS handshake failed", "tls_handshake"),
    ("Bad password", "bad_password"),
    ("Killed", "killed"),
    ("Server shutting down", "shutdown"),
    ("Connection closed", "closed"),
    ("Connection error", "error"),
)

# Event-loop lag in seconds: a healthy loop stays under a millisecond or two; past a
# tenth of a second everyone's messages are visibly late.
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# An HTTP request head larger than this, or slower than this, is cut off.
MAX_REQUEST_BYTES = 8192
REQUEST_TIMEOUT = 10.0


def reason_label(close_reason: str) -> str:
    for prefix, label in REASONS:
        if close_reason.startswith(prefix):
            return label
    return "other"


def dialect_of(conn: Connection) -> str:
    """irc, plain, or undecided (no line yet, or the TLS handshake never finished)."""
    session = conn.session
    if isinstance(session, IrcSession):
        return "irc"
    if isinstance(session, PlainSession):
        return "plain"
    return "undecided"


def transport_of(conn: Connection) -> str:
    return "tcp" if conn.tls is None else "tls"


class Observed(Protocol):
    """The running server, as the metrics see it (app.ChatServer)."""

    hub: Hub
    listener: Listener | None


def store_of(hub: Hub) -> Store | None:
    """The store behind the hub's history; None when history is not kept."""
    return hub.history if isinstance(hub.history, Store) else None


class ServerCollector(Collector):
    """Reads the server's counters when scraped and counts connections as they end."""

    def __init__(self, server: Observed) -> None:
        self.server = server
        # By (dialect, transport), for connections that have ended.
        self.closed: Counter[tuple[str, str]] = Counter()
        self.closed_registered = 0
        self.disconnects: Counter[str] = Counter()

    def connection_closed(self, conn: Connection) -> None:
        """Listener.on_closed: the connection's reason and dialect, before it is freed."""
        self.closed[dialect_of(conn), transport_of(conn)] += 1
        if conn.session is not None and conn.session.ready:
            self.closed_registered += 1
        self.disconnects[reason_label(conn.close_reason)] += 1

    def describe(self) -> Iterable[Metric]:
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        listener = self.server.listener
        hub = self.server.hub
        now: Counter[tuple[str, str]] = Counter()
        registered = 0
        for conn in listener.connections if listener is not None else ():
            now[dialect_of(conn), transport_of(conn)] += 1
            if conn.session is not None and conn.session.ready:
                registered += 1
        labels = ["dialect", "transport"]
        open_now = GaugeMetricFamily("roomchat_connections_open", "Connections open now.",
                                     labels=labels)
        total = CounterMetricFamily("roomchat_connections", "Connections since start.",
                                    labels=labels)
        for dialect in ("irc", "plain", "undecided"):
            for transport in ("tcp", "tls"):
                key = (dialect, transport)
                open_now.add_metric(list(key), now[key])
                total.add_metric(list(key), now[key] + self.closed[key])
        yield open_now
        yield total
        yield CounterMetricFamily("roomchat_registrations", "Clients that registered.",
                                  value=registered + self.closed_registered)
        commands = CounterMetricFamily("roomchat_commands", "Commands run, by name.",
                                       labels=["command"])
        for name, count in sorted(hub.commands_run.items()):
            commands.add_metric([name], count)
        yield commands
        yield CounterMetricFamily(
            "roomchat_messages_received", "PRIVMSG and NOTICE commands received.",
            value=sum(hub.commands_run[name] for name in MESSAGE_COMMANDS),
        )
        disconnects = CounterMetricFamily("roomchat_disconnects", "Connections ended, by why.",
                                          labels=["reason"])
        for label in sorted({label for _, label in REASONS} | {"other"}):
            disconnects.add_metric([label], self.disconnects[label])
        yield disconnects
        if listener is not None:
            stats = listener.stats
            yield CounterMetricFamily("roomchat_deliveries",
                                      "Pieces of output queued to clients.",
                                      value=stats.deliveries)
            yield CounterMetricFamily("roomchat_socket_writes",
                                      "Socket writes the deliveries were coalesced into.",
                                      value=stats.flushes)
            yield CounterMetricFamily("roomchat_received_bytes",
                                      "Bytes read from clients (after TLS).",
                                      value=stats.bytes_in)
            yield CounterMetricFamily("roomchat_sent_bytes",
                                      "Bytes written to clients (before TLS).",
                                      value=stats.bytes_out)
        store = store_of(self.server.hub)
        if store is not None:
            yield GaugeMetricFamily("roomchat_store_queue_depth",
                                    "History entries recorded but not yet written.",
                                    value=store.queue_depth)
            yield GaugeMetricFamily("roomchat_store_healthy",
                                    "1 while the store writes, 0 while writes fail.",
                                    value=1 if store.healthy else 0)
            times = store.commit_times
            cumulative, buckets = 0, []
            for bound, n in zip((*COMMIT_BUCKETS, float("inf")), times.buckets, strict=True):
                cumulative += n
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
            yield HistogramMetricFamily("roomchat_store_commit_seconds",
                                        "How long one batched history transaction takes.",
                                        buckets=buckets, sum_value=times.total)


class LagProbe:
    """Samples how late the event loop runs a timer: the wait every client feels."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float,
                 histogram: Histogram) -> None:
        self.loop = loop
        self.interval = interval
        self.histogram = histogram
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._due = self.loop.time() + self.interval
        self._handle = self.loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        self.histogram.observe(max(0.0, now - self._due))
        self._due = now + self.interval
        self._handle = self.loop.call_at(self._due, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class _HttpRequest(asyncio.Protocol):
    """One HTTP/1.x request, answered and closed: all a scraper or a probe needs."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        self.timer = self.metrics.loop.call_later(REQUEST_TIMEOUT, self.transport.abort)

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.buffer += data
        head, found, _ = self.buffer.replace(b"\r\n", b"\n").partition(b"\n\n")
        if not found:
            if len(self.buffer) > MAX_REQUEST_BYTES:
                self._respond(431, "text/plain; charset=utf-8", b"request too large\n")
            return
        parts = head.split(b"\n", 1)[0].split()
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            self._respond(400, "text/plain; charset=utf-8", b"bad request\n")
            return
        method, target = parts[0], parts[1].split(b"?", 1)[0]
        if method not in (b"GET", b"HEAD"):
            self._respond(405, "text/plain; charset=utf-8", b"only GET\n")
            return
        status, ctype, body = self.metrics.answer(target.decode("ascii", "replace"))
        self._respond(status, ctype, body if method == b"GET" else b"", len(body))

    def _respond(self, status: int, ctype: str, body: bytes, length: int | None = None) -> None:
        assert self.transport is not None
        phrase = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                  431: "Request Header Fields Too Large",
                  503: "Service Unavailable"}[status]
        head = (f"HTTP/1.1 {status} {phrase}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body) if length is None else length}\r\n"
                "Connection: close\r\n\r\n")
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()


class Metrics:
    """The registry, the collector, the lag probe and the HTTP endpoint of one server."""

    def __init__(self, server: Observed, lag_interval: float,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.server = server
        self.loop = loop or asyncio.get_running_loop()
        # A registry of its own: several servers in one process (tests) must not mix.
        self.registry = CollectorRegistry()
        self.collector = ServerCollector(server)
        self.registry.register(self.collector)
        self.lag = Histogram("roomchat_event_loop_lag_seconds",
                             "How late the event loop ran a timer.",
                             buckets=LAG_BUCKETS, registry=self.registry)
        self.probe = LagProbe(self.loop, lag_interval, self.lag)
        self._http: asyncio.Server | None = None

    def watch(self, listener: Listener) -> None:
        listener.on_closed.append(self.collector.connection_closed)

    async def serve(self, sock: socket.socket | None = None, host: str = "",
                    port: int = 0) -> list[tuple[str, int]]:
        """Start answering on `sock` (bound already) or on host:port (OSError)."""
        if sock is not None:
            self._http = await self.loop.create_server(lambda: _HttpRequest(self), sock=sock)
        else:
            self._http = await self.loop.create_server(lambda: _HttpRequest(self), host, port,
                                                       reuse_address=True)
        self.probe.start()
        return [s.getsockname()[:2] for s in self._http.sockets]

    def health(self) -> tuple[bool, str]:
        """(healthy, why): every listener accepting and the store writing."""
        listener = self.server.listener
        if listener is None or not listener.serving():
            return False, "listeners are not accepting"
        store = store_of(self.server.hub)
        if store is not None and not store.healthy:
            return False, f"store is not writing: {store.last_error or 'unknown error'}"
        return True, "ok"

    def answer(self, path: str) -> tuple[int, str, bytes]:
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(self.registry)
        if path == "/healthz":
            ok, why = self.health()
            return (200 if ok else 503), "text/plain; charset=utf-8", f"{why}\n".encode()
        return 404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n"

    async def stop(self) -> None:
        self.probe.stop()
        if self._http is not None:
            self._http.close()
            await self._http.wait_closed()
            self._http = None
