"""A netcat user joining a room bigger than limits.plain_welcome_names reads a few names
and a count, not the whole room; /who still lists everyone, and IRC clients still get
the full NAMES (docs/PLAIN-MODE.md, "Arrivals and departures")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.irc import IrcClient
from support.plain import PlainClient, plain_clients_of, untimed
from support.servers import running_server

from chat_server.app import ChatServer

MOST = 3


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    async with running_server(plain_welcome_names=MOST) as srv:
        yield srv


async def irc_in(server: ChatServer, nick: str, *rooms: str) -> IrcClient:
    host, port = server.addresses[0]
    client = await IrcClient.connect(host, port)
    await client.register(nick)
    for room in rooms:
        await client.join(room)
    return client


async def names_of(client: IrcClient, room: str) -> list[str]:
    """Every name of the NAMES answer that ends a JOIN of `room`, in order."""
    await client.send(f"JOIN {room}")
    found: list[str] = []
    while True:
        msg = await client.expect(lambda m: m.command in ("353", "366"))
        if msg.command == "366":
            return found
        found.extend(msg.params[-1].split())


async def who(client: PlainClient, room: str) -> str:
    await client.send(f"/who {room}")
    return untimed(await client.expect(rf"^\[[\d:]+\] {room} \* People \("))


async def test_a_big_room_is_summarised_for_netcat_but_who_and_irc_list_everyone(
    server: ChatServer,
) -> None:
    nicks = ["ann", "bob", "cy", "dee", "eve"]
    ircs = [await irc_in(server, nick, "#lobby", "#dev") for nick in nicks]
    try:
        async with plain_clients_of(server) as plain:
            zhang = await plain()
            await zhang.send("张三")
            welcome = await zhang.expect(r"^Welcome, ")
            assert welcome == (
                "Welcome, 张三. You are in #lobby with ann, bob, cy and 2 others "
                "(6 people; /who lists everyone). Type /help for commands.")
            assert await who(zhang, "#lobby") == (
                "#lobby * People (6): @ann, bob, cy, dee, eve, 张三")
            # A later /join of a big room reads the same way.
            await zhang.send("/join #dev")
            joined = untimed(await zhang.expect(r"#dev \* 张三 joined\."))
            assert joined == ("#dev * 张三 joined. People (6): ann, bob, cy and 3 others "
                              "(/who lists everyone)")
            # An IRC client joining the same room still gets every name.
            fay = await irc_in(server, "fay")
            ircs.append(fay)
            assert await names_of(fay, "#lobby") == [
                "@ann", "bob", "cy", "dee", "eve", "张三", "fay"]
    finally:
        for client in ircs:
            await client.close()


async def test_a_room_within_the_limit_is_listed_whole(server: ChatServer) -> None:
    ircs = [await irc_in(server, nick, "#lobby") for nick in ("ann", "bob", "cy")]
    try:
        async with plain_clients_of(server) as plain:
            zhang = await plain("张三")
            assert zhang.seen[-1] == (
                "Welcome, 张三. You are in #lobby with ann, bob, cy (4 people). "
                "Type /help for commands.")
    finally:
        for client in ircs:
            await client.close()
