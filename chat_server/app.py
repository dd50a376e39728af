"""The chat-server command: configuration, logging, and wiring of store, hub, sessions,
listeners; and its `history export|purge` admin commands.

The only module that knows every layer; it holds no chat logic of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chat_server import __version__
from chat_server.cluster import ClusterError
from chat_server.cluster.reading import ReadingHistory
from chat_server.config import Config, ConfigError, split_address, to_toml
from chat_server.hub.accounts import NullRegistry
from chat_server.hub.history import dm_key, room_key
from chat_server.hub.hub import Hub, HubSettings
from chat_server.ops import logs
from chat_server.ops.daemon import Pidfile, StartError, detach
from chat_server.ops.metrics import Metrics
from chat_server.ops.notify import notify, reloading
from chat_server.ops.passwords import PasswordError, hash_password, read_password
from chat_server.ops.reload import ConfigSource, apply_reload
from chat_server.ops.workers import fork_workers, supervise, worker_count
from chat_server.protocol import names
from chat_server.session.detect import Detector
from chat_server.session.poster import Posters
from chat_server.session.web import Site, WebSession
from chat_server.store import SqliteStore, Store, StoreError, make_store
from chat_server.store.base import DB_NAME, data_dir, export_record
from chat_server.store.passwords import ThreadPasswords
from chat_server.tokens import load_tokens
from chat_server.transport.connection import Connection, Session
from chat_server.transport.loop import loop_factory
from chat_server.transport.server import Listener, bind
from chat_server.transport.tls import Certificates, TlsError
from chat_server.transport.web import WebConnection
from chat_server.web import load_static

if TYPE_CHECKING:
    from chat_server.cluster.log import RedisLog

log = logging.getLogger("chat_server")

SHUTDOWN_REASON = "Server shutting down"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chat-server",
        description="roomchat: a multi-room chat server speaking IRC and plain text.",
    )
    p.add_argument("--config", metavar="PATH",
                   help="TOML configuration file (default: the first of "
                        "$XDG_CONFIG_HOME/roomchat/roomchat.toml and "
                        "/etc/roomchat/roomchat.toml that exists)")
    p.add_argument("--print-config", action="store_true",
                   help="print the effective configuration as TOML and exit")
    p.add_argument("--check-config", action="store_true",
                   help="validate the configuration and exit")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 6667; 0 picks one)")
    p.add_argument("--name", help="server name shown to clients")
    p.add_argument("--motd", metavar="FILE", help="message of the day file")
    p.add_argument("--web", metavar="HOST:PORT",
                   help="serve the web page, IRC over WebSocket and the posting API on "
                        "HOST:PORT ([web] listen; '' turns it off)")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                   type=str.upper, help="logging threshold (default INFO)")
    p.add_argument("--log-format", choices=["text", "json"], type=str.lower,
                   help="text (default) or JSON lines")
    p.add_argument("--log-file", metavar="PATH", help="log to PATH instead of standard error")
    p.add_argument("--daemon", action="store_true",
                   help="detach into the background once listening (needs --log-file)")
    p.add_argument("--workers", metavar="N|auto",
                   help="run N server processes on the port (auto: one per core), each a "
                        "node of the network in [cluster] redis")
    p.add_argument("--pidfile", metavar="PATH",
                   help="write the server's pid to PATH once listening; remove it on exit")
    p.add_argument("--version", action="version", version=f"roomchat {__version__}")
    commands = add_history_commands(p)
    add_cluster_commands(commands)
    commands.add_parser(
        "hash-password", help="print an argon2id hash for an [[opers]] block's password",
        description="Reads the password from the terminal without echo (asked twice), "
                    "or as one line of standard input, never from the command line.")
    return p


def add_cluster_commands(commands: Any) -> None:
    """`chat-server cluster status`: read from Redis, safe while the network runs."""
    cluster = commands.add_parser(
        "cluster", help="show the network's nodes (see chat-server cluster -h)",
        description="Read the state of the network in [cluster] redis.")
    actions = cluster.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser(
        "status", help="nodes, their people and how far behind each reads the log")
    status.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="TOML configuration file naming [cluster] redis")


def run_cluster(config: Config) -> int:
    if not config.cluster.redis:
        return fail("no [cluster] redis is configured: this server is a network of one", 2)
    try:
        from chat_server.cluster.status import report  # loads Redis's client

        print(report(config.cluster, config.server.network))
    except ClusterError as exc:
        return fail(str(exc), 1)
    return 0


def add_history_commands(p: argparse.ArgumentParser) -> Any:
    """`chat-server history export|purge`: safe while the server runs (own connection)."""
    commands = p.add_subparsers(dest="command", metavar="COMMAND")
    history = commands.add_parser(
        "history", help="export or purge kept history (see chat-server history -h)",
        description="Read or delete the history database of [store] data_dir.")
    actions = history.add_subparsers(dest="action", metavar="ACTION", required=True)
    config_help = "TOML configuration file naming [store] data_dir"
    export = actions.add_parser(
        "export", help="print a room's or conversation's history as JSON lines",
        description="One JSON object a line, oldest first: msgid, time (ISO 8601 UTC), "
                    "nick, kind, text.")
    export.add_argument("room", nargs="?", metavar="ROOM", help="a room, e.g. '#lobby'")
    export.add_argument("--nick", metavar="A", help="with --with: A's private conversation")
    export.add_argument("--with", dest="with_nick", metavar="B", help="... with B")
    purge = actions.add_parser(
        "purge", help="delete a room's history, a nick's, or everything before a date",
        description="Delete kept history; prints how many entries went.")
    which = purge.add_mutually_exclusive_group(required=True)
    which.add_argument("room", nargs="?", metavar="ROOM", help="every entry of a room")
    which.add_argument("--nick", metavar="NICK",
                       help="everything NICK said, and their private conversations")
    which.add_argument("--before", metavar="DATE",
                       help="everything before DATE (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, UTC)")
    for sub in (export, purge):
        sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                         help=config_help)
    return commands


def flag_values(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    server = {
        key: value
        for key, value in (
            ("host", args.host),
            ("port", args.port),
            ("name", args.name),
            ("motd_file", args.motd),
            ("log_level", args.log_level),
            ("log_format", args.log_format),
        )
        if value is not None
    }
    web = {"listen": args.web} if args.web is not None else {}
    return {"server": server, "web": web}


def read_motd(path: str) -> list[str]:
    if not path:
        return []
    with open(path, encoding="utf-8", errors="replace") as fh:
        return [line.rstrip("\r\n") for line in fh]


def hub_settings(config: Config) -> HubSettings:
    s = config.server
    return HubSettings(
        name=s.name, network=s.network, description=s.description, password=s.password,
        motd=read_motd(s.motd_file), limits=config.limits, history=config.history,
        opers=config.opers, accounts=config.accounts,
    )


def describe_store(store: Store) -> str:
    if isinstance(store, SqliteStore):
        return f"history in {store.db}"
    if store.settings.backend == "memory":
        return "history in memory, until the server stops"
    return "history off ([store] backend = none)"


def load_tls(config: Config) -> Certificates | None:
    """The TLS port's certificates when [tls] names cert and key; TlsError if unusable."""
    tls = config.tls
    if not (tls.cert and tls.key):
        return None
    return Certificates(tls.cert, tls.key, tls.client_ca)


class ChatServer:
    """A store, a hub and its listeners: started and stopped as one, by the CLI or by tests.

    `store` is opened already (the CLI opens it before listening or detaching); without
    one, the store [store] backend names is made here and opened by `start`, off the
    event loop (StoreError).
    """

    def __init__(self, config: Config, store: Store | None = None, *,
                 tls: Certificates | None = None, writes_history: bool = True) -> None:
        self.config = config
        self._open_store = store is None
        self.store = store if store is not None else make_store(config)
        # With --workers, one worker writes the machine's store (history, accounts and
        # registered rooms); the others read it, and load the registry from it at start.
        self.hub = Hub(hub_settings(config),
                       history=self.store if writes_history else ReadingHistory(self.store),
                       registry=self.store if writes_history else NullRegistry())
        self.passwords: ThreadPasswords | None = None
        # [cluster] redis: this process is one node of a network sharing a Redis log.
        self.cluster: RedisLog | None = None
        if config.cluster.redis:
            from chat_server.cluster.log import RedisLog  # loads Redis's client

            self.cluster = RedisLog(self.hub, config.cluster, config.server.network)
        self.listener: Listener | None = None
        self.addresses: list[tuple[str, int]] = []
        self.tls = tls if tls is not None else load_tls(config)
        self.tls_addresses: list[tuple[str, int]] = []
        self.metrics: Metrics | None = None
        self.metrics_addresses: list[tuple[str, int]] = []

        self.web_addresses: list[tuple[str, int]] = []
        self.site: Site | None = None

    def new_session(self, conn: Connection) -> Session:
        if isinstance(conn, WebConnection) and self.site is not None:
            return WebSession(self.hub, conn, self.site)
        return Detector(self.hub, conn, self.config.server.default_room, self.web_url())

    def web_url(self) -> str:
        """The page's address as people type it, or "" with [web] off."""
        if not self.web_addresses:
            return ""
        host, port = self.web_addresses[0]
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls is not None else 'http'}://{host}:{port}/"

    async def _start_web(self, listener: Listener, web_sockets: Sequence[socket.socket]) -> None:
        """The web port, under the chat port's limits (one Listener); TLS with [tls]."""
        web = self.config.web
        if not web.listen:
            return
        self.site = Site(
            posters=Posters(self.hub, self.config.limits, listener.loop.time,
                            self.config.server.password),
            tokens=load_tokens(web.tokens_file), files=load_static(),
            origins=frozenset(o.rstrip("/") for o in web.origins.split() if o))

        def connection(owner: Listener, tls: Certificates | None) -> Connection:
            return WebConnection(owner, tls, web.max_body_bytes)

        if web_sockets:
            for sock in web_sockets:
                self.web_addresses += await listener.listen_socket(sock, self.tls, connection)
        else:
            host, port = split_address(web.listen)
            self.web_addresses = await listener.listen(host, port, self.tls, connection)

    async def start(
        self,
        sockets: Sequence[socket.socket] = (),
        tls_sockets: Sequence[socket.socket] = (),
        metrics_sockets: Sequence[socket.socket] = (),
        web_sockets: Sequence[socket.socket] = (),
    ) -> list[tuple[str, int]]:
        """Accept on `sockets` bound already, or bind the configured address (OSError).

        The TLS port, the metrics endpoint and the web port, when configured, likewise
        (ConfigError for an unusable [web] tokens_file). StoreError for a store that
        cannot be opened or whose accounts and rooms cannot be read.
        """
        if self._open_store:
            await asyncio.to_thread(self.store.open)
            self._open_store = False
        # The kept accounts and rooms first: the cluster log's facts apply on top of
        # them, and nobody may connect to a server that does not know them yet.
        accounts, rooms = await asyncio.to_thread(self.store.load_registry)
        self.hub.load_registry(accounts, rooms)
        if accounts or rooms:
            log.info("%d accounts and %d registered rooms loaded", len(accounts), len(rooms))
        loop = asyncio.get_running_loop()
        self.store.start(loop)
        self.passwords = self.hub.passwords = ThreadPasswords(loop)
        self.hub.later = loop.call_later
        if self.cluster is not None:
            await self.cluster.open()  # caught up with the network before serving
            self.cluster.start()
        self.listener = Listener(self.config.limits, self.new_session)
        if sockets:
            self.addresses = [
                address for sock in sockets for address in await self.listener.listen_socket(sock)
            ]
        else:
            self.addresses = await self.listener.listen(self.config.server.host,
                                                        self.config.server.port)
        await self._start_extras(self.listener, tls_sockets, metrics_sockets)
        await self._start_web(self.listener, web_sockets)
        return self.addresses

    async def _start_extras(self, listener: Listener, tls_sockets: Sequence[socket.socket],
                            metrics_sockets: Sequence[socket.socket]) -> None:
        config = self.config
        if config.metrics.listen:
            self.metrics = Metrics(self, config.metrics.lag_interval)
            self.metrics.watch(listener)
            if metrics_sockets:
                for sock in metrics_sockets:
                    self.metrics_addresses += await self.metrics.serve(sock)
            else:
                host, port = split_address(config.metrics.listen)
                self.metrics_addresses = await self.metrics.serve(host=host, port=port)
        if self.tls is None:
            return
        if tls_sockets:
            for sock in tls_sockets:
                self.tls_addresses += await listener.listen_socket(sock, self.tls)
        else:
            self.tls_addresses = await listener.listen(config.server.host, config.tls.port,
                                                       self.tls)
        if config.tls.sts:
            self.hub.settings.sts_port = self.tls_addresses[0][1]
            self.hub.settings.sts_duration = config.tls.sts_duration

    async def stop(self, reason: str = SHUTDOWN_REASON) -> None:
        """Stop listening, tell every client why, wait a bounded time for them to go;
        then commit every history entry and account or room change queued (the goodbyes
        included) and close."""
        if self.listener is None:
            self._close_passwords()
            await asyncio.to_thread(self.store.close)
            return
        self.listener.stop_listening()
        if self.cluster is not None:
            await self.cluster.close()
        self.hub.shutdown(reason)
        await self.listener.wait_closed(self.config.limits.shutdown_grace)
        self.listener = None
        self._close_passwords()
        await asyncio.to_thread(self.store.close)
        if self.metrics is not None:
            await self.metrics.stop()

    def _close_passwords(self) -> None:
        if self.passwords is not None:
            self.passwords.close()
            self.passwords = None


async def reload_config(server: ChatServer, source: ConfigSource, lock: asyncio.Lock) -> None:
    """SIGHUP: read the configuration and MOTD again and apply them, or refuse and say why.

    Connections stay open either way.
    """
    async with lock:
        notify(*reloading())
        log.info("reloading configuration from %s", source.file() or "defaults (no file)")
        try:
            new = await asyncio.to_thread(source.load)
            motd = await asyncio.to_thread(read_motd, new.server.motd_file)
        except ConfigError as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
        except OSError as exc:
            log.error("reload refused, keeping the running configuration: "
                      "cannot read MOTD file %s: %s", exc.filename, exc.strerror)
        else:
            notes = apply_reload(server.config, server.hub, new, motd)
            if server.listener is not None:
                server.listener.cap_send_buffers()
            logs.set_level(server.config.server.log_level)
            for note in notes:
                log.info("reload: %s", note)
            if not notes:
                log.info("reload: nothing changed")
            for warning in source.warnings:
                log.warning("%s", warning)
            await reload_certificates(server)
        notify("READY=1")


async def reload_certificates(server: ChatServer) -> None:
    """Read the TLS certificate and key again (a renewal replaces the files in place).

    New connections get the new certificate, open ones keep theirs; an unusable pair
    is refused and the running one kept.
    """
    tls = server.config.tls
    if server.tls is None:
        if tls.cert and tls.key:
            log.info("reload: tls.cert and tls.key set: the TLS port needs a restart")
        return
    if not (tls.cert and tls.key):
        log.info("reload: tls.cert or tls.key emptied: the TLS port stays until a restart")
        return
    try:
        await asyncio.to_thread(server.tls.reload, tls.cert, tls.key, tls.client_ca)
    except TlsError as exc:
        log.error("reload: TLS certificate refused, keeping the one in use: %s", exc)
    else:
        log.info("reload: TLS certificate loaded from %s", tls.cert)


async def serve(
    config: Config,
    source: ConfigSource,
    *,
    sockets: Sequence[socket.socket] = (),
    pidfile: Pidfile | None = None,
    tls: Certificates | None = None,
    tls_sockets: Sequence[socket.socket] = (),
    metrics_sockets: Sequence[socket.socket] = (),
    store: Store | None = None,
    web_sockets: Sequence[socket.socket] = (),
    writes_history: bool = True,
) -> int:
    """Run until SIGTERM or SIGINT, reloading on SIGHUP; the exit status."""
    loop = asyncio.get_running_loop()
    server = ChatServer(config, store, tls=tls, writes_history=writes_history)
    try:
        addresses = await server.start(sockets, tls_sockets, metrics_sockets, web_sockets)
    except ConfigError as exc:
        log.error("%s", exc)
        await server.stop()
        return 2
    except (ClusterError, StoreError) as exc:
        log.error("%s", exc)
        await server.stop()
        return 1
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", config.server.host, config.server.port,
                  exc.strerror or exc)
        await asyncio.to_thread(server.store.close)
        return 1
    stop = asyncio.Event()
    received: list[str] = []
    reload_lock = asyncio.Lock()
    reloads: set[asyncio.Task[None]] = set()

    def on_stop(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    def on_reload() -> None:
        task = loop.create_task(reload_config(server, source, reload_lock))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    # Handlers first: whoever reads the pidfile or READY=1 may signal at once.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_stop, sig)
    loop.add_signal_handler(signal.SIGHUP, on_reload)
    server.hub.rehash = on_reload  # an operator's REHASH is a SIGHUP
    for host, port in addresses:
        log.info("listening on %s:%d as %s", host, port, config.server.name)
    for host, port in server.tls_addresses:
        log.info("TLS port %s:%d (certificate %s)", host, port, config.tls.cert)
    for host, port in server.metrics_addresses:
        log.info("metrics at http://%s:%d/metrics and /healthz", host, port)
    if server.web_addresses:
        log.info("web page at %s", server.web_url())
    if pidfile is not None:
        pidfile.write()
    listening = ", ".join(f"{host}:{port}" for host, port in addresses)
    notify("READY=1", f"STATUS=listening on {listening}")

    await stop.wait()
    notify("STOPPING=1")
    log.info("shutting down on %s", received[0])
    for task in list(reloads):
        task.cancel()
    await server.stop()
    log.info("stopped")
    return 0


def rebind(group: list[socket.socket]) -> list[socket.socket]:
    """A worker's own sockets on the addresses of the parent's (SO_REUSEPORT)."""
    fresh: list[socket.socket] = []
    for sock in group:
        host, port = sock.getsockname()[:2]
        sock.close()
        fresh += bind(host, port, reuse_port=True)
    return fresh


def fail(message: str, status: int) -> int:
    print(f"chat-server: {message}", file=sys.stderr)
    return status


def run(args: argparse.Namespace) -> int:
    """Start (or print, or check) and return the exit status.

    Whatever can go wrong at start is said on the terminal, before detaching: status 2
    for the configuration, 1 for the pidfile, the log file or the address.
    """
    source = ConfigSource(Path(args.config) if args.config else None, flag_values(args))
    try:
        config = source.load()
        read_motd(config.server.motd_file)
    except ConfigError as exc:
        return fail(str(exc), 2)
    except OSError as exc:
        return fail(f"cannot read MOTD file {exc.filename}: {exc.strerror}", 2)
    if args.print_config:
        print(f"# roomchat {__version__}: defaults < {source.file() or '(no file)'}"
              " < environment < flags")
        print(to_toml(config), end="")
        return 0
    if args.command == "history":
        return run_history(args, config)
    if args.command == "cluster":
        return run_cluster(config)
    if args.command == "hash-password":
        return run_hash_password()
    for warning in source.warnings if args.check_config else ():
        print(f"chat-server: warning: {warning}", file=sys.stderr)
    try:
        tls = load_tls(config)
    except TlsError as exc:
        return fail(f"TLS: {exc}", 1)
    try:
        load_tokens(config.web.tokens_file)
    except ConfigError as exc:
        return fail(f"[web] tokens_file: {exc}", 2)
    try:
        workers = worker_count(args.workers) if args.workers else 1
    except ValueError:
        return fail(f"--workers {args.workers}: give a number of processes, or auto", 2)
    if workers > 1 and not config.cluster.redis:
        return fail("--workers needs [cluster] redis: the workers share rooms, people and "
                    "history through it (README, Running several servers)", 2)
    if args.check_config:
        print(f"chat-server: configuration OK ({source.file() or 'no file, defaults'})")
        return 0

    pidfile = Pidfile(args.pidfile) if args.pidfile else None
    try:
        if pidfile is not None:
            pidfile.check()
        handler = logs.open_handler(args.log_file)
    except StartError as exc:
        return fail(str(exc), 1)
    except OSError as exc:
        return fail(f"cannot open log file {args.log_file}: {exc.strerror}", 1)
    # Until the loop handles it, a SIGHUP (a reload) must not kill the starting server.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # Opened before listening and detaching, so a bad database is said on the terminal.
    store = make_store(config)
    try:
        store.open()
    except StoreError as exc:
        handler.close()
        return fail(str(exc), 1)
    sockets: list[socket.socket] = []
    tls_sockets: list[socket.socket] = []
    metrics_sockets: list[socket.socket] = []
    web_sockets: list[socket.socket] = []
    wanted = [(sockets, config.server.host, config.server.port, "")]
    if tls is not None:
        wanted.append((tls_sockets, config.server.host, config.tls.port, "for TLS "))
    if config.metrics.listen:
        wanted.append((metrics_sockets, *split_address(config.metrics.listen), "for metrics "))
    if config.web.listen:
        wanted.append((web_sockets, *split_address(config.web.listen), "for the web page "))
    for into, host, port, what in wanted:
        try:
            into += bind(host, port, reuse_port=workers > 1)
        except OSError as exc:
            handler.close()
            for sock in [*sockets, *tls_sockets, *metrics_sockets, *web_sockets]:
                sock.close()
            return fail(f"cannot listen {what}on {host}:{port}: {exc.strerror or exc}", 1)
    if config.cluster.redis:
        try:
            from chat_server.cluster.log import check_redis  # loads Redis's client

            check_redis(config.cluster, config.server.network)
        except ClusterError as exc:
            handler.close()
            for sock in [*sockets, *tls_sockets, *metrics_sockets, *web_sockets]:
                sock.close()
            store.close()
            return fail(str(exc), 1)
    logs.configure(handler, config.server.log_level, config.server.log_format)
    log.info("%s", describe_store(store))
    for warning in source.warnings:
        log.warning("%s", warning)
    if args.daemon:
        detach([*sockets, *tls_sockets, *metrics_sockets, *web_sockets, handler.stream],
               stderr=handler.stream)
    writes_history = True
    if workers > 1:
        store.close()  # each worker opens its own connection
        index, pids = fork_workers(workers)
        if index < 0:
            for sock in [*sockets, *tls_sockets, *metrics_sockets, *web_sockets]:
                sock.close()
            log.info("%d workers: pids %s", workers, " ".join(map(str, pids)))
            try:
                return supervise(pids, pidfile.write if pidfile is not None else lambda: None)
            finally:
                if pidfile is not None:
                    pidfile.remove()
        pidfile = None  # the parent's
        writes_history = index == 0
        if index:
            sockets, tls_sockets, web_sockets = (
                rebind(group) for group in (sockets, tls_sockets, web_sockets))
            for sock in metrics_sockets:
                sock.close()
            metrics_sockets = []
            config.metrics.listen = ""  # served by the first worker
        if config.cluster.node:
            config.cluster.node = f"{config.cluster.node}-{index}"
        store = make_store(config)
        try:
            store.open()
        except StoreError as exc:
            log.error("%s", exc)
            return 1
    try:
        factory, loop_name = loop_factory()
        log.info("roomchat %s on %s", __version__, loop_name)
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(serve(config, source, sockets=sockets, pidfile=pidfile, tls=tls,
                                    tls_sockets=tls_sockets,
                                    metrics_sockets=metrics_sockets, store=store,
                                    web_sockets=web_sockets,
                                    writes_history=writes_history))
    except Exception:
        log.exception("stopped by an unexpected error")
        return 1
    finally:
        # However the loop ended, what was recorded is written before the process exits.
        store.close()
        if pidfile is not None:
            pidfile.remove()
        # A loop that took a socket over has closed it already (closing twice is
        # harmless); this closes the ones it never got, after an early failure.
        for sock in [*sockets, *tls_sockets, *metrics_sockets, *web_sockets]:
            sock.close()


def run_hash_password() -> int:
    """`chat-server hash-password`: the hash on standard output, for [[opers]] password."""
    try:
        password = read_password()
    except PasswordError as exc:
        return fail(f"hash-password: {exc}", 2)
    except (EOFError, KeyboardInterrupt):
        return fail("hash-password: no password given", 2)
    print(hash_password(password))
    return 0


def parse_date(text: str) -> float:
    """YYYY-MM-DD (midnight) or an ISO 8601 time, UTC unless it says otherwise; seconds."""
    when = datetime.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def run_history(args: argparse.Namespace, config: Config) -> int:
    """`chat-server history export|purge`, on the database of [store] data_dir."""
    if config.store.backend != "sqlite":
        return fail(f"history {args.action}: [store] backend is {config.store.backend}, "
                    "so there is no history database", 1)
    before = None
    if args.action == "export":
        if args.room and (args.nick or args.with_nick):
            return fail("history export: give ROOM or --nick A --with B, not both", 2)
        if args.room:
            if not names.is_valid_room(args.room):
                return fail(f"history export: {args.room!r} is not a room name "
                            "(quote it: '#lobby')", 2)
            key = room_key(names.fold(args.room))
        elif args.nick and args.with_nick:
            key = dm_key(names.fold(args.nick), names.fold(args.with_nick))
        else:
            return fail("history export: give ROOM, or --nick A --with B", 2)
    else:
        if args.room is not None and not names.is_valid_room(args.room):
            return fail(f"history purge: {args.room!r} is not a room name (quote it: "
                        "'#lobby')", 2)
        if args.before is not None:
            try:
                before = parse_date(args.before)
            except ValueError:
                return fail(f"history purge: --before {args.before!r} is not a date; use "
                            "YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)", 2)
    path = data_dir(config.store) / DB_NAME
    if not path.is_file():
        return fail(f"history {args.action}: no history database at {path} "
                    "(see [store] data_dir)", 1)
    # The admin commands read or delete; they keep no recent lines in memory.
    store = SqliteStore(config.store, dataclasses.replace(config.history, memory_targets=0),
                        path=path)
    try:
        store.open()
        if args.action == "export":
            for entry in store.export(key):
                sys.stdout.write(json.dumps(export_record(entry), ensure_ascii=False) + "\n")
            sys.stdout.flush()
            return 0
        removed = store.purge(
            target=room_key(names.fold(args.room)) if args.room is not None else None,
            nick=names.fold(args.nick) if args.nick is not None else None,
            before=before)
    except StoreError as exc:
        return fail(str(exc), 1)
    except BrokenPipeError:  # `| head` stopped reading: not an error of ours
        sys.stderr.close()
        return 0
    print(f"chat-server: purged {removed} entries from {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.daemon and not args.log_file:
        parser.error("--daemon needs --log-file: a daemon has no terminal to log to")
    sys.exit(run(args))
