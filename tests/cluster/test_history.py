"""History in a cluster: every node's store is filled from the log, in log order."""

from __future__ import annotations

from support.cluster import NodeFactory, irc
from support.history import history, texts
from support.irc import IrcClient
from support.plain import PlainClient

from chat_server.protocol.message import Message

CAPS = ("batch", "draft/chathistory", "echo-message", "message-tags", "server-time")


async def all_seen(client: IrcClient, said: list[str]) -> None:
    waiting = set(said)

    def ticks_off(msg: Message) -> bool:
        if msg.command == "PRIVMSG" and msg.param(0) == "#dev":
            waiting.discard(msg.param(1))
        return not waiting

    await client.expect(ticks_off)


async def test_chathistory_on_a_returns_what_was_said_on_b_in_the_same_order(
        node: NodeFactory, clients: list[IrcClient | PlainClient]) -> None:
    a, b = node("a"), node("b")
    alice = await irc(clients, a, "alice", CAPS)
    await alice.join("#dev")
    bob = await irc(clients, b, "bob", CAPS)
    await bob.join("#dev")
    carol = await irc(clients, b, "carol", CAPS)
    await carol.join("#dev")
    said = []
    for i in range(30):
        speaker = (bob, carol, alice)[i % 3]
        text = f"line {i} from {speaker.nick}"
        said.append(text)
        await speaker.send(f"PRIVMSG #dev :{text}")
    # Each node keeps a line when it applies it from the log, in log order, which is not
    # the order they were sent in: wait until both have seen all thirty (their own lines
    # come back as echoes), then every one is in both stores.
    for client in (alice, bob):
        await all_seen(client, said)
    on_a = await history(alice, "CHATHISTORY LATEST #dev * 50")
    on_b = await history(bob, "CHATHISTORY LATEST #dev * 50")
    assert texts(on_b) == texts(on_a)
    assert [m.tags["msgid"] for m in on_a] == [m.tags["msgid"] for m in on_b]
    # What each speaker sent arrives in its own order; the log decides the rest, the
    # same on both nodes.
    for who in ("alice", "bob", "carol"):
        assert [t for t in texts(on_a) if t.endswith(who)] == [
            t for t in said if t.endswith(who)]
    assert sorted(texts(on_a)) == sorted(said)
    await bob.send("PRIVMSG alice :only between us")
    await alice.expect("only between us")
    private = await history(alice, "CHATHISTORY LATEST bob * 10")
    assert texts(private) == ["only between us"]
