"""IRCv3 capabilities change what a client sees, and only for the client that asked."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from support.irc import ClientFactory

from chat_server.protocol.message import parse_line

ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_message_tags_give_every_message_a_unique_msgid(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob", caps=("message-tags",))
    carol = await connect("carol", caps=("message-tags",))
    for client in (alice, bob, carol):
        await client.join("#room")
    await bob.expect(r"carol!\S+ JOIN ")
    for i in range(3):
        await alice.send(f"PRIVMSG #room :message {i}")
    await alice.send("PRIVMSG bob :private")
    seen_by_bob = [await bob.expect(rf"PRIVMSG #room :?message {i}$") for i in range(3)]
    seen_by_bob.append(await bob.expect(r"PRIVMSG bob :?private$"))
    ids = [m.tags["msgid"] for m in seen_by_bob]
    assert all(ids) and len(set(ids)) == 4
    # Everyone in the room sees the same message under the same id.
    first_at_carol = await carol.expect(r"PRIVMSG #room :?message 0$")
    assert first_at_carol.tags["msgid"] == ids[0]
    await alice.send("PING :x")
    assert not (await alice.expect(r" PONG ")).tags
    assert not any(line.startswith("@") for line in alice.seen)


async def test_server_time_stamps_room_events_in_utc_with_milliseconds(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob", caps=("server-time",))
    await bob.join("#room")
    before = datetime.now(UTC)
    await alice.join("#room")
    joined = await bob.expect(r" JOIN #room")
    await alice.send("PRIVMSG #room :timed")
    said = await bob.expect(r" PRIVMSG #room :?timed$")
    for msg in (joined, said):
        assert ISO_TIME.match(msg.tags["time"]), msg.tags
        stamp = datetime.strptime(msg.tags["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert abs((stamp - before).total_seconds()) < 5
        assert "msgid" not in msg.tags


async def test_echo_message_returns_the_senders_own_message_only_with_the_cap(
    connect: ClientFactory,
) -> None:
    echo = await connect("echo", caps=("echo-message",))
    quiet = await connect("quiet")
    await echo.join("#room")
    await quiet.join("#room")
    await echo.send("PRIVMSG #room :to the room")
    assert (await echo.expect(r" PRIVMSG #room ")).source == "echo!~u@127.0.0.1"
    await echo.send("PRIVMSG quiet :to quiet")
    assert (await echo.expect(r" PRIVMSG quiet ")).params[-1] == "to quiet"
    await echo.send("NOTICE quiet :a notice")
    await echo.expect(r" NOTICE quiet :a notice")
    await quiet.send("PRIVMSG #room :from quiet")
    await quiet.send("PING :sync")
    await quiet.expect(r" PONG ")
    assert not any("from quiet" in line for line in quiet.seen)
    await echo.expect(r"^:quiet!\S+ PRIVMSG #room :from quiet$")


async def test_multi_prefix_shows_every_status_in_names_and_who(
    connect: ClientFactory,
) -> None:
    op = await connect("op", caps=("multi-prefix",))
    plain = await connect("plain")
    await op.join("#room")
    await plain.join("#room")
    await op.send("MODE #room +v op")
    await op.expect(r" MODE #room \+v op")
    await op.send("NAMES #room")
    assert (await op.expect(r" 353 ")).params[-1].split() == ["@+op", "plain"]
    await op.send("WHO #room")
    assert (await op.expect(r" 352 \S+ #room \S+ \S+ \S+ op ")).params[6] == "H@+"
    await plain.send("NAMES #room")
    assert (await plain.expect(r" 353 ")).params[-1].split() == ["@op", "plain"]


async def test_userhost_in_names_shows_full_masks(connect: ClientFactory) -> None:
    full = await connect("full", caps=("userhost-in-names", "multi-prefix"))
    await connect("other")
    await full.send("JOIN #room")
    assert (await full.expect(r" 353 ")).params[-1] == "@full!~u@127.0.0.1"


async def test_away_notify_tells_room_mates_that_asked_for_it(connect: ClientFactory) -> None:
    watcher = await connect("watcher", caps=("away-notify",))
    plain = await connect("plain")
    walker = await connect("walker")
    for client in (watcher, plain, walker):
        await client.join("#room")
    await walker.send("AWAY :brb")
    away = await watcher.expect(r" AWAY ")
    assert (away.source, away.params) == ("walker!~u@127.0.0.1", ("brb",))
    await walker.send("AWAY")
    back = await watcher.expect(r" AWAY")
    assert (back.source, back.params) == ("walker!~u@127.0.0.1", ())
    await plain.send("PING :sync")
    await plain.expect(r" PONG ")
    assert not any(parse_line(line).command == "AWAY" for line in plain.seen)


async def test_cap_notify_and_batch_are_acknowledged(connect: ClientFactory) -> None:
    client = await connect()
    await client.send("CAP LS")
    await client.expect(r" CAP \* LS ")
    await client.send("CAP REQ :cap-notify batch")
    assert (await client.expect(r" CAP \* ACK ")).params[-1] == "cap-notify batch"
    await client.send("CAP LIST")
    assert set((await client.expect(r" CAP \* LIST ")).params[-1].split()) == {
        "cap-notify", "batch",
    }
