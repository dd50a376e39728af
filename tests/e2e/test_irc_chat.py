"""Two or three IRC clients chatting over real sockets: what each of them sees."""

from __future__ import annotations

from support.irc import ClientFactory


async def test_two_clients_exchange_messages_and_a_third_sees_both_in_names(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#lobby")
    await bob.join("#lobby")
    await alice.expect(r"^:bob!~u@127\.0\.0\.1 JOIN #lobby$")

    await alice.send("PRIVMSG #lobby :hi bob")
    msg = await bob.expect(r" PRIVMSG ")
    assert msg.source == "alice!~u@127.0.0.1"
    assert msg.params == ("#lobby", "hi bob")
    await bob.send("PRIVMSG #lobby :hello alice")
    msg = await alice.expect(r" PRIVMSG ")
    assert msg.source == "bob!~u@127.0.0.1"
    assert msg.params == ("#lobby", "hello alice")

    carol = await connect("carol")
    await carol.send("JOIN #lobby")
    names = await carol.expect(r" 353 ")
    assert names.params[-1].split() == ["@alice", "bob", "carol"]


async def test_part_quit_nick_topic_and_kick_reach_the_room_with_the_right_source(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    carol = await connect("carol")
    for c in (alice, bob, carol):
        await c.join("#lobby")
    await alice.expect(r"carol.* JOIN ")

    await bob.send("NICK robert")
    msg = await alice.expect(r" NICK ")
    assert (msg.source, msg.params) == ("bob!~u@127.0.0.1", ("robert",))
    await carol.expect(r"^:bob!\S+ NICK :?robert$")

    await alice.send("TOPIC #lobby :release on Friday")
    msg = await carol.expect(r" TOPIC ")
    assert msg.source == "alice!~u@127.0.0.1"
    assert msg.params == ("#lobby", "release on Friday")

    await carol.send("PART #lobby :lunch")
    msg = await alice.expect(r" PART ")
    assert (msg.source, msg.params) == ("carol!~u@127.0.0.1", ("#lobby", "lunch"))

    await alice.send("KICK #lobby robert :behave")
    msg = await alice.expect(r" KICK ")
    assert (msg.source, msg.params) == ("alice!~u@127.0.0.1", ("#lobby", "robert", "behave"))
    await bob.expect(r"^:alice!\S+ KICK #lobby robert :?behave$")

    await bob.join("#lobby")
    await bob.send("QUIT :bye now")
    msg = await alice.expect(r" QUIT ")
    assert (msg.source, msg.params) == ("robert!~u@127.0.0.1", ("Quit: bye now",))
    assert any("ERROR" in line for line in await bob.at_eof())


async def test_a_kicked_user_is_no_longer_in_the_room(connect: ClientFactory) -> None:
    op = await connect("op")
    guest = await connect("guest")
    await op.join("#room")
    await guest.join("#room")
    await op.send("KICK #room guest")
    await guest.expect(r" KICK #room guest")
    await guest.send("PRIVMSG #room :still here?")
    msg = await guest.expect(r" 404 ")
    assert msg.params[1] == "#room"


async def test_only_operators_may_kick(connect: ClientFactory) -> None:
    op = await connect("op")
    guest = await connect("guest")
    await op.join("#room")
    await guest.join("#room")
    await guest.send("KICK #room op")
    msg = await guest.expect(r" 482 ")
    assert msg.params[1] == "#room"
