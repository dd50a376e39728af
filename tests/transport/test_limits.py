"""Admission limits refuse with a stated reason; a failing handler does not take the server down."""

from __future__ import annotations

import logging
import socket

import pytest
from support.clients import server_and_clients
from support.servers import wait_until

from chat_server.hub.events import Chat
from chat_server.transport.connection import KERNEL_SNDBUF_BYTES


async def test_connections_past_the_per_address_limit_are_refused_with_the_reason() -> None:
    async with server_and_clients(max_connections_per_ip=2) as (server, connect):
        alice = await connect("alice")
        bob = await connect("bob")
        refused = await connect()
        rest = await refused.at_eof()
        assert rest == ["ERROR :Closing Link: 127.0.0.1 (Too many connections from your address)"]
        await refused.close()
        await alice.send("PRIVMSG bob :still fine")
        await bob.expect(r" PRIVMSG bob :?still fine$")
        # The refused connection does not count against the address once it is gone.
        await bob.send("QUIT")
        await bob.at_eof()
        await bob.close()
        listener = server.listener
        assert listener is not None
        await wait_until(lambda: len(listener.connections) == 1)
        await connect("carol")


async def test_connections_past_the_total_limit_are_refused_with_the_reason() -> None:
    async with server_and_clients(max_connections=2) as (server, connect):
        await connect("alice")
        await connect("bob")
        refused = await connect()
        assert await refused.at_eof() == ["ERROR :Closing Link: 127.0.0.1 (Server is full)"]
        await refused.close()
        assert {u.nick for u in server.hub.connections} == {"alice", "bob"}


class BrokenHistory:
    """A store that fails, as a disk-full store would."""

    def record(self, event: Chat) -> None:
        raise OSError("disk full")


async def test_an_exception_in_a_handler_is_logged_and_the_server_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with server_and_clients() as (server, connect):
        alice = await connect("alice")
        bob = await connect("bob")
        await alice.join("#room")
        await bob.join("#room")
        working = server.hub.history
        server.hub.history = BrokenHistory()
        with caplog.at_level(logging.ERROR, "chat_server"):
            await alice.send("PRIVMSG #room :this one fails")
            await alice.send("PING :after the failure")
            await alice.expect(r" PONG \S+ :?after the failure$")
        assert "disk full" in caplog.text
        assert "alice" in caplog.text
        server.hub.history = working
        await alice.send("PRIVMSG #room :this one works")
        await bob.expect(r"^:alice!\S+ PRIVMSG #room :this one works$")
        late = await connect("late")
        await late.join("#room")


async def test_each_connections_kernel_send_buffer_is_capped() -> None:
    """A client that stops reading may hold at most the cap in the kernel, not the
    megabytes Linux would grow the buffer to (connections inherit it from the
    listening socket); a reload lowering sendq_bytes lowers it for new connections."""
    async with server_and_clients(sendq_bytes=1 << 20) as (server, connect):
        listener = server.listener
        assert listener is not None

        def sndbuf_of(nick: str) -> int:
            conn = next(c for c in listener.connections
                        if c.session is not None and c.session.label == nick)
            assert conn.transport is not None
            sock = conn.transport.get_extra_info("socket")
            return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))

        await connect("alice")
        # Linux reports twice what was set (its bookkeeping overhead).
        assert sndbuf_of("alice") == 2 * KERNEL_SNDBUF_BYTES
        listener.limits.sendq_bytes = 16384
        listener.cap_send_buffers()
        await connect("bob")
        assert sndbuf_of("bob") == 2 * 16384
        assert sndbuf_of("alice") == 2 * KERNEL_SNDBUF_BYTES
