"""The chat-server command: configuration, logging, and wiring of hub, sessions, listeners.

The only module that knows every layer; it holds no chat logic of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from chat_server import __version__
from chat_server.config import Config, ConfigError, load
from chat_server.hub.hub import Hub, HubSettings
from chat_server.session.irc import IrcSession
from chat_server.transport.connection import Connection, Session
from chat_server.transport.loop import loop_factory
from chat_server.transport.server import Listener

log = logging.getLogger("chat_server")

SHUTDOWN_REASON = "Server shutting down"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chat-server",
        description="roomchat: a multi-room chat server speaking IRC and plain text.",
    )
    p.add_argument("--config", metavar="PATH", help="TOML configuration file")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 6667; 0 picks one)")
    p.add_argument("--name", help="server name shown to clients")
    p.add_argument("--motd", metavar="FILE", help="message of the day file")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                   type=str.upper, help="logging threshold (default INFO)")
    p.add_argument("--version", action="version", version=f"roomchat {__version__}")
    return p


def flag_values(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    server = {
        key: value
        for key, value in (
            ("host", args.host),
            ("port", args.port),
            ("name", args.name),
            ("motd_file", args.motd),
            ("log_level", args.log_level),
        )
        if value is not None
    }
    return {"server": server}


def read_motd(path: str) -> list[str]:
    if not path:
        return []
    with open(path, encoding="utf-8", errors="replace") as fh:
        return [line.rstrip("\r\n") for line in fh]


def hub_settings(config: Config) -> HubSettings:
    s = config.server
    return HubSettings(
        name=s.name, network=s.network, password=s.password,
        motd=read_motd(s.motd_file), limits=config.limits,
    )


class ChatServer:
    """A hub with its listeners: started and stopped as one, by the CLI or by tests."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.hub = Hub(hub_settings(config))
        self.listener: Listener | None = None
        self.addresses: list[tuple[str, int]] = []

    def new_session(self, conn: Connection) -> Session:
        return IrcSession(self.hub, conn)

    async def start(self) -> list[tuple[str, int]]:
        """Bind the listeners; raises OSError when the address cannot be had."""
        self.listener = Listener(self.config.limits, self.new_session)
        self.addresses = await self.listener.listen(self.config.server.host,
                                                    self.config.server.port)
        return self.addresses

    async def stop(self, reason: str = SHUTDOWN_REASON) -> None:
        """Stop listening, tell every client why, wait a bounded time for them to go."""
        if self.listener is None:
            return
        self.listener.stop_listening()
        self.hub.shutdown(reason)
        await self.listener.wait_closed(self.config.limits.shutdown_grace)
        self.listener = None


async def serve(config: Config) -> int:
    """Run until SIGTERM or SIGINT; the exit status."""
    loop = asyncio.get_running_loop()
    server = ChatServer(config)
    try:
        addresses = await server.start()
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", config.server.host, config.server.port,
                  exc.strerror or exc)
        return 1
    for host, port in addresses:
        log.info("listening on %s:%d as %s", host, port, config.server.name)

    stop = asyncio.Event()
    received: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    await stop.wait()
    log.info("shutting down on %s", received[0])
    await server.stop()
    log.info("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        config = load(args.config, flags=flag_values(args))
        read_motd(config.server.motd_file)
    except ConfigError as exc:
        print(f"chat-server: {exc}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        print(f"chat-server: cannot read MOTD file {exc.filename}: {exc.strerror}",
              file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(
        level=config.server.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    factory, loop_name = loop_factory()
    log.info("roomchat %s on %s", __version__, loop_name)
    with asyncio.Runner(loop_factory=factory) as runner:
        status = runner.run(serve(config))
    sys.exit(status)
