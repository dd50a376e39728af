"""A netcat user and an IRC client in the same rooms, over real sockets: what each sees."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.irc import ClientFactory, IrcClient
from support.plain import PlainClient, PlainFactory, plain_clients_of

from chat_server.app import ChatServer


@pytest.fixture
async def plain(server: ChatServer) -> AsyncIterator[PlainFactory]:
    async with plain_clients_of(server) as factory:
        yield factory


async def pair(connect: ClientFactory, plain: PlainFactory) -> tuple[IrcClient, PlainClient]:
    """bob (IRC, operator of #lobby) and 张三 (plain), both in #lobby."""
    bob = await connect("bob")
    await bob.join("#lobby")
    zhang = await plain("张三")
    await bob.expect(r"^:张三!~张三@127\.0\.0\.1 JOIN #lobby$")
    return bob, zhang


async def test_messages_and_actions_cross_both_ways(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob, zhang = await pair(connect, plain)
    await zhang.send("hello bob")
    msg = await bob.expect(r" PRIVMSG #lobby ")
    assert (msg.source, msg.params) == ("张三!~张三@127.0.0.1", ("#lobby", "hello bob"))
    assert await zhang.next() == "#lobby <张三> hello bob"

    await bob.send("PRIVMSG #lobby :hello 张三")
    assert await zhang.next() == "#lobby <bob> hello 张三"

    await zhang.send("/me waves")
    msg = await bob.expect(r" PRIVMSG #lobby ")
    assert msg.params == ("#lobby", "\x01ACTION waves\x01")
    assert await zhang.next() == "#lobby * 张三 waves"
    await bob.send("PRIVMSG #lobby :\x01ACTION waves back\x01")
    assert await zhang.next() == "#lobby * bob waves back"


async def test_private_messages_cross_both_ways(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob, zhang = await pair(connect, plain)
    await zhang.send("/msg bob are you coming?")
    assert await zhang.next() == "-> bob: are you coming?"
    msg = await bob.expect(r" PRIVMSG bob ")
    assert (msg.source, msg.params) == ("张三!~张三@127.0.0.1", ("bob", "are you coming?"))
    await bob.send("PRIVMSG 张三 :yes")
    assert await zhang.next() == "<- bob: yes"
    await bob.send("NOTICE 张三 :psst")
    assert await zhang.next() == "<- -bob- psst"
    await bob.send("AWAY :lunch")
    await bob.expect(r" 306 ")
    await zhang.send("/msg bob back soon?")
    assert await zhang.next() == "-> bob: back soon?"
    assert await zhang.next() == "* bob is away: lunch"


async def test_joins_parts_and_quits_are_seen_on_both_sides(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob, zhang = await pair(connect, plain)
    await zhang.send("/join dev")
    await bob.join("#dev")
    assert await zhang.next() == "#dev * 张三 joined. People: 张三"
    assert await zhang.next() == "#dev * bob joined."
    await bob.send("PART #dev :lunch")
    assert await zhang.next() == "#dev * bob left (lunch)."
    await zhang.send("/part lobby see you")
    msg = await bob.expect(r"^:张三!\S+ PART ")
    assert (msg.source, msg.params) == ("张三!~张三@127.0.0.1", ("#lobby", "see you"))
    assert await zhang.next() == "#lobby * 张三 left (see you)."
    await zhang.send("/join lobby")
    assert await zhang.next() == "#lobby * 张三 joined. People: bob, 张三"
    await bob.send("QUIT :bye now")
    assert await zhang.next() == "* bob has quit (Quit: bye now)."


async def test_nick_changes_are_seen_on_both_sides(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob, zhang = await pair(connect, plain)
    await zhang.send("/nick 王五")
    assert await zhang.next() == "* You are now known as 王五."
    msg = await bob.expect(r" NICK ")
    assert (msg.source, msg.params) == ("张三!~张三@127.0.0.1", ("王五",))
    await bob.send("NICK robert")
    assert await zhang.next() == "* bob is now known as robert."
    await zhang.send("/nick robert")
    assert await zhang.next() == "! Nickname robert is taken."


async def test_topics_kicks_and_modes_are_seen_on_both_sides(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob, zhang = await pair(connect, plain)
    await bob.send("TOPIC #lobby :release on Friday")
    assert await zhang.next() == "#lobby * bob set the topic: release on Friday"
    await zhang.send("/topic")
    assert await zhang.next() == "#lobby * Topic: release on Friday"
    await zhang.send("/topic moved to Monday")
    assert await zhang.next() == "! Only operators of #lobby can do that."
    await bob.send("MODE #lobby +o 张三")
    assert await zhang.next() == "#lobby * bob sets mode +o 张三"
    await zhang.send("/topic moved to Monday")
    msg = await bob.expect(r"^:张三!\S+ TOPIC ")
    assert (msg.source, msg.params) == ("张三!~张三@127.0.0.1", ("#lobby", "moved to Monday"))
    assert await zhang.next() == "#lobby * 张三 set the topic: moved to Monday"
    await zhang.send("/mode -o bob")
    msg = await bob.expect(r"^:张三!\S+ MODE ")
    assert msg.params == ("#lobby", "-o", "bob")
    assert await zhang.next() == "#lobby * 张三 sets mode -o bob"
    await zhang.send("/kick bob behave")
    msg = await bob.expect(r" KICK ")
    assert msg.params == ("#lobby", "bob", "behave")
    assert await zhang.next() == "#lobby * 张三 kicked bob (behave)."


async def test_a_kicked_netcat_user_is_told_and_keeps_a_usable_connection(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob, zhang = await pair(connect, plain)
    await bob.send("KICK #lobby 张三 :behave")
    assert await zhang.next() == "#lobby * bob kicked 张三 (behave)."
    await zhang.send("sorry")
    assert await zhang.next() == (
        "! You are not in #lobby any more; /join it again or /switch to another "
        "(you are in: none)."
    )
    await zhang.send("/join lobby")
    assert await zhang.next() == "#lobby * 张三 joined. People: bob, 张三"
    await zhang.send("sorry")
    msg = await bob.expect(r" PRIVMSG #lobby ")
    assert msg.params == ("#lobby", "sorry")
