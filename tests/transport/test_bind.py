"""Sockets bound before the event loop runs (as a daemon does before detaching) serve
like the ones the listener binds itself."""

from __future__ import annotations

import socket

import pytest
from support.irc import IrcClient
from support.servers import make_config

from chat_server.app import ChatServer
from chat_server.transport.server import bind


async def test_a_server_started_on_bound_sockets_accepts_clients() -> None:
    sockets = bind("127.0.0.1", 0)
    port = sockets[0].getsockname()[1]
    server = ChatServer(make_config())
    assert await server.start(sockets) == [("127.0.0.1", port)]
    try:
        client = await IrcClient.connect("127.0.0.1", port)
        await client.register("alice")
        await client.close()
    finally:
        await server.stop()
    for sock in sockets:
        sock.close()


def test_binding_a_taken_port_raises() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="Address already in use"):
            bind("127.0.0.1", taken.getsockname()[1])

