"""IRCv3 draft/chathistory over real sockets, with history kept in memory.

What a client that asks for history gets: every subcommand with both reference types,
exclusive bounds and limits, paging, private conversations, refusals and event playback.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable

import pytest
from support.history import FULL_CAPS, history, read_batch, running_history_server, texts
from support.irc import ClientFactory, IrcClient

from chat_server.app import ChatServer
from chat_server.protocol.message import parse_line


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    # Flood control off: some tests send a thousand lines at once.
    async with running_history_server({"flood_rate": 0}) as srv:
        yield srv


async def say_all(client: IrcClient, target: str, lines: list[str]) -> None:
    """Send lines at once and wait for the echo of the last (so all are kept)."""
    await client.send_raw("".join(f"PRIVMSG {target} :{t}\r\n" for t in lines).encode())
    last = lines[-1]
    await client.expect(lambda m: m.command == "PRIVMSG" and m.param(1) == last, timeout=20)


async def chatting(connect: ClientFactory, n: int) -> tuple[IrcClient, IrcClient, list[str]]:
    """alice and bob in #dev; bob said m1..mn; alice saw them live."""
    alice = await connect("alice", FULL_CAPS)
    bob = await connect("bob", FULL_CAPS)
    await alice.join("#dev")
    await bob.join("#dev")
    said = [f"m{i}" for i in range(1, n + 1)]
    await say_all(bob, "#dev", said)
    await alice.expect(lambda m: m.command == "PRIVMSG" and m.param(1) == said[-1])
    return alice, bob, said


def live(client: IrcClient, text: str) -> dict[str, str]:
    """The tags of the line `text` as it was delivered live to `client`."""
    for raw in client.seen:
        msg = parse_line(raw)
        if msg.command == "PRIVMSG" and msg.param(1) == text and "batch" not in msg.tags:
            return msg.tags
    raise AssertionError(f"{text!r} was not delivered live")


async def test_caps_and_isupport_advertise_chathistory(connect: ClientFactory) -> None:
    client = await connect()
    await client.send("CAP LS 302")
    ls = await client.expect(r" CAP \* LS ")
    offered = ls.params[-1].split()
    assert "draft/chathistory" in offered and "draft/event-playback" in offered
    await client.send("CAP END")
    await client.register("carol")
    tokens = {t.partition("=")[0]: t.partition("=")[2]
              for line in client.seen if " 005 " in line for t in line.split()}
    assert tokens["CHATHISTORY"] == "1000"
    assert tokens["MSGREFTYPES"] == "msgid,timestamp"


async def test_latest_returns_the_newest_with_their_original_msgid_and_time(
    connect: ClientFactory,
) -> None:
    alice, _, said = await chatting(connect, 5)
    await alice.send("CHATHISTORY LATEST #dev * 3")
    start, lines = await read_batch(alice)
    assert start.params[1:] == ("chathistory", "#dev")
    assert texts(lines) == said[-3:]
    for msg in lines:
        tags = live(alice, msg.param(1))
        assert msg.tags["msgid"] == tags["msgid"] and msg.tags["time"] == tags["time"]
        assert msg.source is not None and msg.source.startswith("bob!")


async def test_before_after_between_around_by_msgid_exclude_their_bounds(
    connect: ClientFactory,
) -> None:
    alice, _, said = await chatting(connect, 10)
    ids = [live(alice, t)["msgid"] for t in said]
    assert texts(await history(alice, f"CHATHISTORY BEFORE #dev msgid={ids[5]} 3")) == \
        ["m3", "m4", "m5"]
    assert texts(await history(alice, f"CHATHISTORY AFTER #dev msgid={ids[5]} 3")) == \
        ["m7", "m8", "m9"]
    assert texts(await history(alice, f"CHATHISTORY BETWEEN #dev msgid={ids[1]} "
                                      f"msgid={ids[6]} 100")) == ["m3", "m4", "m5", "m6"]
    # Backwards: counted from the first reference, still oldest first.
    assert texts(await history(alice, f"CHATHISTORY BETWEEN #dev msgid={ids[6]} "
                                      f"msgid={ids[1]} 2")) == ["m5", "m6"]
    around = texts(await history(alice, f"CHATHISTORY AROUND #dev msgid={ids[4]} 3"))
    assert "m5" in around and len(around) == 3 and around == sorted(around, key=said.index)
    assert texts(await history(alice, f"CHATHISTORY LATEST #dev msgid={ids[7]} 10")) == \
        ["m9", "m10"]


def ticking(start: float = 1_800_000_000.0) -> Callable[[], float]:
    """A hub clock that moves on a quarter second each time it is read."""
    ticks = itertools.count()
    return lambda: start + next(ticks) * 0.25


async def test_timestamp_references_work_like_msgids(
    server: ChatServer, connect: ClientFactory,
) -> None:
    server.hub.clock = ticking()
    alice, _, said = await chatting(connect, 4)
    times = [live(alice, t)["time"] for t in said]
    assert len(set(times)) == 4
    assert texts(await history(alice, f"CHATHISTORY AFTER #dev timestamp={times[0]} 10")) == \
        ["m2", "m3", "m4"]
    assert texts(await history(alice, f"CHATHISTORY BEFORE #dev timestamp={times[3]} 2")) == \
        ["m2", "m3"]
    assert texts(await history(alice, f"CHATHISTORY BETWEEN #dev timestamp={times[0]} "
                                      f"timestamp={times[3]} 10")) == ["m2", "m3"]
    assert texts(await history(alice, f"CHATHISTORY LATEST #dev timestamp={times[1]} 10")) == \
        ["m3", "m4"]
    around = texts(await history(alice, f"CHATHISTORY AROUND #dev timestamp={times[2]} 2"))
    assert len(around) == 2 and around == sorted(around, key=said.index)
    late = "2999-01-01T00:00:00.000Z"
    assert texts(await history(alice, f"CHATHISTORY BEFORE #dev timestamp={late} 2")) == \
        ["m3", "m4"]


async def test_limit_is_capped_at_the_advertised_maximum() -> None:
    async with running_history_server({"flood_rate": 0}, chathistory_max=5) as srv:
        host, port = srv.addresses[0]
        alice = await IrcClient.connect(host, port)
        await alice.register("alice", FULL_CAPS)
        await alice.join("#dev")
        await say_all(alice, "#dev", [f"m{i}" for i in range(1, 9)])
        assert texts(await history(alice, "CHATHISTORY LATEST #dev * 1000")) == \
            ["m4", "m5", "m6", "m7", "m8"]
        await alice.close()


async def test_paging_back_through_a_thousand_messages_sees_each_once(
    connect: ClientFactory,
) -> None:
    alice, _, said = await chatting(connect, 1000)
    got: list[str] = []
    page = await history(alice, "CHATHISTORY LATEST #dev * 100")
    while page:
        got[:0] = texts(page)
        oldest = page[0].tags["msgid"]
        page = await history(alice, f"CHATHISTORY BEFORE #dev msgid={oldest} 100")
    assert got == said


async def test_only_members_read_a_room(connect: ClientFactory) -> None:
    await chatting(connect, 2)
    carol = await connect("carol", FULL_CAPS)
    for line in ("CHATHISTORY LATEST #dev * 10", "CHATHISTORY LATEST #nowhere * 10"):
        await carol.send(line)
        fail = await carol.expect(r" FAIL ")
        assert fail.params[:2] == ("CHATHISTORY", "INVALID_TARGET")
        assert fail.params[2:4] == ("LATEST", line.split()[2])
    assert not [m for m in carol.seen if "m1" in m]


async def test_private_history_is_read_by_its_two_parties_only(connect: ClientFactory) -> None:
    alice = await connect("alice", FULL_CAPS)
    bob = await connect("bob", FULL_CAPS)
    carol = await connect("carol", FULL_CAPS)
    await alice.send("PRIVMSG bob :hi bob")
    await bob.expect(r"PRIVMSG bob :hi bob")
    await bob.send("PRIVMSG alice :hi alice")
    await alice.expect(r"PRIVMSG alice :hi alice")
    lines = await history(alice, "CHATHISTORY LATEST bob * 10")
    assert [(m.source.split("!")[0] if m.source else "", m.params) for m in lines] == [
        ("alice", ("bob", "hi bob")), ("bob", ("alice", "hi alice"))]
    assert texts(await history(bob, "CHATHISTORY LATEST ALICE * 10")) == ["hi bob", "hi alice"]
    assert await history(carol, "CHATHISTORY LATEST bob * 10") == []
    assert await history(carol, "CHATHISTORY LATEST alice * 10") == []
    # The other party being offline does not hide the conversation.
    await bob.send("QUIT :bye")
    await bob.at_eof()
    assert texts(await history(alice, "CHATHISTORY LATEST bob * 10")) == ["hi bob", "hi alice"]


@pytest.mark.parametrize(("line", "code"), [
    ("CHATHISTORY", "INVALID_PARAMS"),
    ("CHATHISTORY FROB #dev * 10", "INVALID_PARAMS"),
    ("CHATHISTORY LATEST #dev *", "INVALID_PARAMS"),
    ("CHATHISTORY LATEST #dev * 10 extra", "INVALID_PARAMS"),
    ("CHATHISTORY LATEST #dev * 0", "INVALID_PARAMS"),
    ("CHATHISTORY LATEST #dev * -5", "INVALID_PARAMS"),
    ("CHATHISTORY LATEST #dev * ten", "INVALID_PARAMS"),
    ("CHATHISTORY LATEST #dev * ²", "INVALID_PARAMS"),
    ("CHATHISTORY BEFORE #dev * 10", "INVALID_PARAMS"),
    ("CHATHISTORY BEFORE #dev timestamp=yesterday 10", "INVALID_PARAMS"),
    ("CHATHISTORY BEFORE #dev timestamp=2026-13-45T99:00:00.000Z 10", "INVALID_PARAMS"),
    ("CHATHISTORY BEFORE #dev msgid= 10", "INVALID_PARAMS"),
    ("CHATHISTORY BEFORE #dev seq=5 10", "INVALID_MSGREFTYPE"),
    ("CHATHISTORY BEFORE #dev 12345 10", "INVALID_MSGREFTYPE"),
    ("CHATHISTORY BETWEEN #dev msgid=a 10", "INVALID_PARAMS"),
    ("CHATHISTORY TARGETS msgid=a timestamp=2026-01-01T00:00:00.000Z 10", "INVALID_PARAMS"),
    ("CHATHISTORY LATEST * * 10", "INVALID_TARGET"),
    ("CHATHISTORY LATEST no,body * 10", "INVALID_TARGET"),
])
async def test_malformed_requests_get_fail_and_the_connection_goes_on(
    connect: ClientFactory, line: str, code: str,
) -> None:
    alice = await connect("alice", FULL_CAPS)
    await alice.join("#dev")
    await alice.send(line)
    fail = await alice.expect(r" FAIL ")
    assert fail.params[:2] == ("CHATHISTORY", code)
    assert fail.params[-1]  # a description
    await alice.send("PING still-here")
    await alice.expect(r"PONG \S+ :?still-here")


async def test_event_playback_only_for_clients_that_asked(connect: ClientFactory) -> None:
    alice = await connect("alice", (*FULL_CAPS, "draft/event-playback"))
    bob = await connect("bob", FULL_CAPS)
    await alice.join("#dev")
    await bob.join("#dev")
    await alice.send("TOPIC #dev :release friday")
    await alice.send("MODE #dev +v bob")
    await bob.send("PRIVMSG #dev :hello")
    await bob.send("NICK robert")
    await alice.expect(r" NICK :?robert")
    await bob.send("PART #dev :later")
    await alice.expect(r" PART #dev")
    events = await history(alice, "CHATHISTORY LATEST #dev * 100")
    assert [m.command for m in events] == [
        "JOIN", "JOIN", "TOPIC", "MODE", "PRIVMSG", "NICK", "PART"]
    assert all(m.tags.get("msgid") and m.tags.get("time") for m in events)
    assert events[-1].source is not None and events[-1].source.startswith("robert!")
    carol = await connect("carol", FULL_CAPS)
    await carol.join("#dev")
    assert [m.command for m in await history(carol, "CHATHISTORY LATEST #dev * 100")] == \
        ["PRIVMSG"]


async def test_room_events_carry_msgids_live(connect: ClientFactory) -> None:
    alice = await connect("alice", FULL_CAPS)
    await alice.send("JOIN #dev")
    joined = await alice.expect(r" JOIN ")
    assert joined.tags.get("msgid")


async def test_targets_lists_conversations_with_recent_messages(connect: ClientFactory) -> None:
    alice, bob, _ = await chatting(connect, 2)
    await bob.send("PRIVMSG alice :psst")
    await alice.expect(r"PRIVMSG alice :?psst")
    await alice.send("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                     "timestamp=2999-01-01T00:00:00.000Z 10")
    start, rows = await read_batch(alice)
    assert start.params[1:] == ("draft/chathistory-targets",)
    assert [(m.command, m.params[:2]) for m in rows] == [
        ("CHATHISTORY", ("TARGETS", "#dev")), ("CHATHISTORY", ("TARGETS", "bob"))]
    assert all(m.params[2].endswith("Z") for m in rows)


async def test_targets_lists_a_conversation_with_someone_offline(connect: ClientFactory) -> None:
    alice = await connect("alice", FULL_CAPS)
    carol = await connect("carol", FULL_CAPS)
    await carol.send("PRIVMSG alice :see you tomorrow")
    await alice.expect(r"PRIVMSG alice :?see you tomorrow")
    await carol.send("QUIT :home")
    await carol.at_eof()
    await alice.send("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                     "timestamp=2999-01-01T00:00:00.000Z 10")
    _, rows = await read_batch(alice)
    assert [m.params[:2] for m in rows] == [("TARGETS", "carol")]


async def test_an_answer_to_someone_who_left_is_dropped(connect: ClientFactory) -> None:
    alice, bob, _ = await chatting(connect, 3)
    await bob.send("CHATHISTORY LATEST #dev * 10\r\nQUIT :gone")
    await bob.at_eof()
    # The server is still well and answers others.
    assert texts(await history(alice, "CHATHISTORY LATEST #dev * 10")) == ["m1", "m2", "m3"]
