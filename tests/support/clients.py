"""Clients of a server started with custom settings, closed when the block ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from chat_server.app import ChatServer
from support.irc import ClientFactory, IrcClient
from support.servers import running_server


@asynccontextmanager
async def clients_of(server: ChatServer) -> AsyncIterator[ClientFactory]:
    """Like the `connect` fixture, for a server the test started itself."""
    opened: list[IrcClient] = []

    async def factory(nick: str | None = None, caps: tuple[str, ...] = ()) -> IrcClient:
        host, port = server.addresses[0]
        client = await IrcClient.connect(host, port)
        opened.append(client)
        if nick is not None:
            await client.register(nick, caps)
        return client

    try:
        yield factory
    finally:
        for client in opened:
            await client.close()


@asynccontextmanager
async def server_and_clients(**settings: Any) -> AsyncIterator[tuple[ChatServer, ClientFactory]]:
    """A server with `settings` (see running_server) and a client factory for it."""
    async with running_server(**settings) as server, clients_of(server) as connect:
        yield server, connect
