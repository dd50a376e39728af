"""Replay on join and plain-mode history over real sockets, with history kept in memory.

What people whose clients cannot ask for history see: an IRC client gets the room's
last messages after the join burst (as a batch, with time tags, or with the time in
the text), a netcat user sees them between divider lines and can ask for more.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from support.history import FULL_CAPS, read_batch, running_history_server
from support.irc import ClientFactory, IrcClient
from support.plain import PlainClient, PlainFactory, plain_clients_of

from chat_server.app import ChatServer


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    async with running_history_server(replay_on_join=3) as srv:
        yield srv


@pytest.fixture
async def plain(server: ChatServer) -> AsyncIterator[PlainFactory]:
    async with plain_clients_of(server) as factory:
        yield factory


async def earlier(connect: ClientFactory, room: str = "#dev", n: int = 5) -> IrcClient:
    """bob said m1..mn in `room` and is still there."""
    bob = await connect("bob", ("echo-message",))
    await bob.join(room)
    for i in range(1, n + 1):
        await bob.send(f"PRIVMSG {room} :m{i}")
        await bob.expect(rf"PRIVMSG {room} :?m{i}$")
    return bob


async def join_burst(client: IrcClient, room: str) -> None:
    await client.send(f"JOIN {room}")
    await client.expect(lambda m: m.command == "366")


async def test_replay_after_names_in_a_batch_with_original_times(
    connect: ClientFactory,
) -> None:
    await earlier(connect)
    alice = await connect("alice", ("batch", "server-time", "message-tags"))
    await join_burst(alice, "#dev")
    start, lines = await read_batch(alice)
    assert start.params[1:] == ("chathistory", "#dev")
    assert [m.param(1) for m in lines] == ["m3", "m4", "m5"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", m.tags["time"])
               for m in lines)
    assert all(m.tags.get("msgid") for m in lines)


async def test_replay_without_server_time_shows_the_time_between_two_notices(
    connect: ClientFactory,
) -> None:
    await earlier(connect)
    alice = await connect("alice")
    await join_burst(alice, "#dev")
    first = await alice.expect(r" NOTICE ")
    assert first.params == ("#dev", "--- earlier in #dev ---")
    said = [await alice.expect(r" PRIVMSG ") for _ in range(3)]
    for msg, text in zip(said, ["m3", "m4", "m5"], strict=True):
        assert not msg.tags
        assert re.fullmatch(rf"\[\d{{4}}-\d\d-\d\d \d\d:\d\d UTC\] {text}", msg.param(1))
    last = await alice.expect(r" NOTICE ")
    assert last.params == ("#dev", "--- now ---")


async def test_replay_with_message_tags_but_no_batch_keeps_the_text(
    connect: ClientFactory,
) -> None:
    # WeeChat 3.8: server-time and message-tags, no batch; it shows the time tag.
    await earlier(connect)
    alice = await connect("alice", ("server-time", "message-tags"))
    await join_burst(alice, "#dev")
    await alice.expect(r"--- earlier in #dev ---")
    said = [await alice.expect(r" PRIVMSG ") for _ in range(3)]
    assert [m.param(1) for m in said] == ["m3", "m4", "m5"]
    assert all("time" in m.tags for m in said)
    await alice.expect(r"--- now ---")


async def test_replay_with_server_time_alone_shows_the_time_in_the_text_too(
    connect: ClientFactory,
) -> None:
    # irssi 1.4 negotiates server-time alone, yet shows such lines at arrival time.
    await earlier(connect)
    alice = await connect("alice", ("server-time",))
    await join_burst(alice, "#dev")
    await alice.expect(r"--- earlier in #dev ---")
    said = [await alice.expect(r" PRIVMSG ") for _ in range(3)]
    for msg, text in zip(said, ["m3", "m4", "m5"], strict=True):
        assert re.fullmatch(rf"\[\d{{4}}-\d\d-\d\d \d\d:\d\d UTC\] {text}", msg.param(1))
        assert "time" in msg.tags
    await alice.expect(r"--- now ---")


async def test_no_replay_for_clients_that_ask_themselves(connect: ClientFactory) -> None:
    bob = await earlier(connect)
    alice = await connect("alice", FULL_CAPS)
    await join_burst(alice, "#dev")
    await bob.send("PRIVMSG #dev :live")
    await alice.expect(r"PRIVMSG #dev :?live")
    assert not [line for line in alice.seen if re.search(r"BATCH|:m\d$|m\d$", line)]


async def test_replay_on_join_zero_turns_it_off() -> None:
    async with running_history_server(replay_on_join=0) as srv:
        host, port = srv.addresses[0]
        bob = await IrcClient.connect(host, port)
        await bob.register("bob", ("echo-message",))
        await bob.join("#dev")
        await bob.send("PRIVMSG #dev :old")
        await bob.expect(r"PRIVMSG #dev :?old")
        alice = await IrcClient.connect(host, port)
        await alice.register("alice")
        await join_burst(alice, "#dev")
        await bob.send("PRIVMSG #dev :new")
        await alice.expect(r"PRIVMSG #dev :?new")
        assert not [line for line in alice.seen if "old" in line or "earlier" in line]
        await alice.close()
        await bob.close()


async def plain_lines_until(client: PlainClient, pattern: str) -> list[str]:
    """Lines read up to and including the first that matches."""
    start = len(client.seen)
    await client.expect(pattern)
    return client.seen[start:]


async def test_plain_user_sees_the_room_between_dividers_on_join(
    connect: ClientFactory, plain: PlainFactory,
) -> None:
    await earlier(connect, "#lobby")
    zhang = await plain()
    await zhang.send("张三")
    lines = await plain_lines_until(zhang, r"^--- now ---$")
    welcome = next(i for i, line in enumerate(lines) if line.startswith("Welcome, 张三."))
    divider = lines.index("--- earlier in #lobby ---")
    assert welcome < divider
    kept = lines[divider + 1:-1]
    assert [re.sub(r"^\[\d\d:\d\d:\d\d\] ", "", line) for line in kept] == [
        "#lobby <bob> m3", "#lobby <bob> m4", "#lobby <bob> m5"]


async def test_plain_join_of_another_room_shows_its_history_after_the_joined_line(
    connect: ClientFactory, plain: PlainFactory,
) -> None:
    await earlier(connect, "#dev", n=2)
    zhang = await plain("张三")
    await zhang.send("/join dev")
    lines = await plain_lines_until(zhang, r"^--- now ---$")
    joined = next(i for i, line in enumerate(lines) if "#dev * 张三 joined." in line)
    assert lines[joined + 1] == "--- earlier in #dev ---"
    assert [line[11:] for line in lines[joined + 2:-1]] == ["#dev <bob> m1", "#dev <bob> m2"]


async def test_plain_history_shows_more_of_the_room(
    connect: ClientFactory, plain: PlainFactory,
) -> None:
    await earlier(connect, "#lobby", n=6)
    zhang = await plain("张三")
    await zhang.expect(r"^--- now ---$")
    await zhang.send("/history 5")
    lines = await plain_lines_until(zhang, r"^--- now ---$")
    assert lines[0] == "--- earlier in #lobby ---"
    assert [line[11:] for line in lines[1:-1]] == [f"#lobby <bob> m{i}" for i in range(2, 7)]


async def test_plain_history_of_a_private_conversation(
    connect: ClientFactory, plain: PlainFactory,
) -> None:
    bob = await connect("bob")
    zhang = await plain("张三")
    await zhang.send("/msg bob are you coming?")
    await bob.expect(r"PRIVMSG bob :are you coming\?")
    await bob.send("PRIVMSG 张三 :yes")
    await zhang.expect(r"<- bob: yes")
    await bob.send("QUIT")
    await bob.at_eof()
    await zhang.send("/history bob")
    lines = await plain_lines_until(zhang, r"^--- now ---$")
    assert lines[0] == "--- earlier with bob ---"
    assert [line[11:] for line in lines[1:-1]] == ["-> bob: are you coming?", "<- bob: yes"]


async def test_plain_history_refusals_are_clear(plain: PlainFactory) -> None:
    zhang = await plain("张三")
    await zhang.send("/history #elsewhere")
    assert await zhang.expect(r"^! ") == \
        "! You are not in #elsewhere; /join it to read what was said there."
    await zhang.send("/history nobody")
    assert await zhang.expect(r"\* Nothing was said with nobody yet\.$")
    await zhang.send("/history 0")
    assert (await zhang.expect(r"^! ")).startswith("! Show at least 1 message")


async def test_joiners_with_different_caps_each_get_their_own_replay_and_new_lines(
    connect: ClientFactory,
) -> None:
    # The replayed lines are rendered once per form and kept: a joiner must never get
    # the rendering made for another's capabilities, nor miss a line said since.
    bob = await earlier(connect, n=3)
    tagged = await connect("tagged", ("server-time", "message-tags"))
    bare = await connect("bare")
    again = await connect("again", ("server-time", "message-tags"))
    for client in (tagged, bare):
        await join_burst(client, "#dev")
        await client.expect(r"--- earlier in #dev ---")
        said = [await client.expect(r" PRIVMSG ") for _ in range(3)]
        texts = [m.param(1) for m in said]
        if client is tagged:
            assert texts == ["m1", "m2", "m3"] and all("time" in m.tags for m in said)
        else:
            assert all(not m.tags for m in said)
            assert [t.split("] ", 1)[1] for t in texts] == ["m1", "m2", "m3"]
    await bob.send("PRIVMSG #dev :m4")
    await bob.expect(r"PRIVMSG #dev :?m4$")
    await join_burst(again, "#dev")
    await again.expect(r"--- earlier in #dev ---")
    said = [await again.expect(r" PRIVMSG ") for _ in range(3)]
    assert [m.param(1) for m in said] == ["m2", "m3", "m4"]
    assert all("time" in m.tags for m in said)
