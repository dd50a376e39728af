"""A room's lines reach exactly its members, in the form each asked for, through the
queues the fan-out appends to in bulk; nothing of a room's follows a goodbye."""

from __future__ import annotations

import asyncio
from typing import Any

from support.clients import server_and_clients
from support.irc import IrcClient

from chat_server.config import LimitsSection
from chat_server.protocol.message import Message, parse_line
from chat_server.transport.connection import Connection
from chat_server.transport.server import Listener


async def test_a_capability_asked_for_after_joining_shapes_the_next_room_line() -> None:
    async with server_and_clients() as (_, connect):
        alice = await connect("alice")
        bob = await connect("bob")
        await alice.join("#room")
        await bob.join("#room")
        # Two lines: the first after a join walks the members, the second groups them.
        for line in ("before", "still before"):
            await alice.send(f"PRIVMSG #room :{line}")
            await bob.expect(rf"^:alice!\S+ PRIVMSG #room :?{line}$")

        await bob.send("CAP REQ :server-time")
        await bob.expect(r" ACK :?server-time$")
        await alice.send("PRIVMSG #room :after")
        await bob.expect(r"^@time=\S+ :alice!\S+ PRIVMSG #room :?after$")

        await bob.send("CAP REQ :-server-time")
        await bob.expect(r" ACK :?-server-time$")
        await alice.send("PRIVMSG #room :again")
        await bob.expect(r"^:alice!\S+ PRIVMSG #room :?again$")


async def test_members_get_one_copy_the_sender_none_and_a_leaver_no_more() -> None:
    async with server_and_clients() as (_, connect):
        alice = await connect("alice", caps=("echo-message",))
        bob = await connect("bob")
        carol = await connect("carol")
        for client in (alice, bob, carol):
            await client.join("#room")
        await alice.send("PRIVMSG #room :one")
        await carol.expect(r"^:alice!\S+ PRIVMSG #room :?one$")
        await carol.send("PART #room")
        await carol.expect(r"^:carol!\S+ PART #room")
        await alice.send("PRIVMSG #room :two")
        await bob.send("PRIVMSG #room :three")

        # alice: her own two lines once each (echo-message) and bob's, nothing twice.
        said = [await alice.expect(r" PRIVMSG #room ") for _ in range(3)]
        assert [m.params[1] for m in said] == ["one", "two", "three"]
        await bob.send("PRIVMSG #room :end")
        await alice.expect(r"^:bob!\S+ PRIVMSG #room :?end$")
        # bob heard alice's two and not his own; carol nothing since she left.
        await bob.send("PING :bob")
        heard = await _until(bob, "bob")
        assert [m.params[1] for m in heard if m.command == "PRIVMSG"] == ["one", "two"]
        await carol.send("PING :carol")
        heard = await _until(carol, "carol")
        assert [m for m in heard if m.command == "PRIVMSG"] == []
        await carol.send("JOIN #room")
        await carol.expect(r" JOIN #room$")
        await alice.send("PRIVMSG #room :back")
        await carol.expect(r"^:alice!\S+ PRIVMSG #room :?back$")


async def _until(client: IrcClient, token: str) -> list[Message]:
    """Every line before the PONG that answers `PING :token`."""
    lines = []
    while (msg := parse_line(await client.readline())).command != "PONG":
        lines.append(msg)
    assert msg.params[-1] == token
    return lines


class Transport:
    """Keeps what is written, to read what the client would have."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


class Quiet:
    """A session that says nothing: this test drives the queue itself."""

    ready = True
    label = "quiet"
    busy = False


async def test_nothing_a_room_appends_after_the_goodbye_is_written() -> None:
    # Until the hub lets a closing person go (on another node's say-so, in a cluster),
    # their rooms may still append to the queue they were handed.
    listener = Listener(LimitsSection(), lambda conn: Quiet(), asyncio.get_running_loop())
    conn = Connection(listener)
    transport = Transport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    box = conn.outbox()
    assert box is not None
    queue, owner, wake = box
    queue.append(b":alice PRIVMSG #room :before\r\n")
    wake([owner])
    conn.write(b"ERROR :Closing Link: 127.0.0.1 (Killed)\r\n")
    conn.close("Killed")
    queue.append(b":alice PRIVMSG #room :after\r\n")
    wake([owner])
    assert conn.outbox() is None
    await asyncio.sleep(0)  # one loop turn: the flush
    assert b"".join(transport.written) == (b":alice PRIVMSG #room :before\r\n"
                                           b"ERROR :Closing Link: 127.0.0.1 (Killed)\r\n")
    assert transport.closed
