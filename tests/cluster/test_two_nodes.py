"""Two nodes sharing one Redis: the same rooms, people, topics and nicknames on both."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from support.cluster import NodeFactory, irc, plain
from support.irc import IrcClient
from support.plain import PlainClient
from support.servers import wait_until

from chat_server.protocol.message import Message


def names_of(msg: Message) -> set[str]:
    return set(msg.params[-1].split())


async def test_irc_and_netcat_people_on_two_nodes_chat_in_one_lobby(
        node: NodeFactory, clients: list[IrcClient | PlainClient]) -> None:
    a, b = node("a"), node("b")
    alice = await irc(clients, a, "alice")
    await alice.join("#lobby")
    bob = await irc(clients, b, "bob")
    await bob.join("#lobby")
    await alice.expect(r":bob!\S+ JOIN #lobby")
    zhang = await plain(clients, a, "zhang")
    await bob.expect(r":zhang!\S+ JOIN #lobby")
    lisi = await plain(clients, b, "lisi")
    await alice.expect(r":lisi!\S+ JOIN #lobby")
    await zhang.expect(r"#lobby \* lisi joined\.")

    await alice.send("PRIVMSG #lobby :from alice on a")
    await bob.expect(r":alice!\S+ PRIVMSG #lobby :from alice on a")
    assert "#lobby <alice> from alice on a" in await lisi.expect("from alice on a")
    await lisi.send("from lisi on b")
    await alice.expect(r":lisi!\S+ PRIVMSG #lobby :from lisi on b")
    await zhang.expect(r"#lobby <lisi> from lisi on b")
    await bob.send("PRIVMSG zhang :a private word")
    await zhang.expect(r"<- bob: a private word")
    await zhang.send("/msg bob back at you")
    await bob.expect(r":zhang!\S+ PRIVMSG bob :back at you")

    await alice.send("TOPIC #lobby :one topic everywhere")
    await bob.expect(r"TOPIC #lobby :one topic everywhere")
    for client in (alice, bob):
        await client.send("NAMES #lobby")
        assert names_of(await client.expect(" 353 ")) == {"@alice", "bob", "zhang", "lisi"}
        await client.send("TOPIC #lobby")
        assert (await client.expect(" 332 ")).params[-1] == "one topic everywhere"
        await client.send("WHO #lobby")
        who: set[str] = set()
        while True:
            msg = await client.expect(" (352|315) ")
            if msg.command == "315":
                break
            who.add(msg.params[5])
        assert who == {"alice", "bob", "zhang", "lisi"}
        await client.send("WHOIS lisi")
        assert "#lobby" in (await client.expect(" 319 ")).params[-1]
    await lisi.send("/quit bye")
    await alice.expect(r":lisi!\S+ QUIT :Quit: bye")
    await bob.send("NICK robert")
    await alice.expect(r":bob!\S+ NICK :?robert")
    await zhang.expect(r"bob is now known as robert")


async def race(a_port: int, b_port: int, nick: str) -> list[str]:
    """Two people claim one nick at once on two nodes; the numerics each gets."""
    one = await IrcClient.connect("127.0.0.1", a_port)
    two = await IrcClient.connect("127.0.0.1", b_port)
    try:
        await asyncio.gather(*(c.send_raw(f"NICK {nick}\r\nUSER u 0 * :r\r\n".encode())
                               for c in (one, two)))
        answers = await asyncio.gather(*(c.expect(r" (001|433) ", timeout=10)
                                         for c in (one, two)))
        return sorted(m.command for m in answers)
    finally:
        await one.close()
        await two.close()


async def test_a_hundred_races_for_one_nick_on_two_nodes_each_have_one_winner(
        node: NodeFactory) -> None:
    a, b = node("a"), node("b")
    for start in range(0, 100, 20):
        results = await asyncio.gather(*(race(a.port, b.port, f"racer{i}")
                                         for i in range(start, start + 20)))
        assert all(r == ["001", "433"] for r in results), results


def cluster_status(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chat_server", "cluster", "status", "--config", str(config)],
        env=env, capture_output=True, text=True, timeout=30)


async def test_cluster_status_lists_nodes_their_people_and_lag(
        node: NodeFactory, clients: list[IrcClient | PlainClient], tmp_path: Path) -> None:
    a, b = node("a"), node("b")
    await irc(clients, a, "alice")
    await plain(clients, b, "zhang")
    shown = ""

    def both_reported() -> bool:
        nonlocal shown
        shown = cluster_status(a.config, a.env).stdout
        return "alice" in shown and "zhang" in shown

    await wait_until(both_reported, 10)
    assert "2 nodes" in shown.splitlines()[0]
    rows = {line.split()[0]: line.split() for line in shown.splitlines()[1:]}
    assert rows["a"][-2:] == ["0", "entries"] and rows["b"][-2:] == ["0", "entries"]
    assert "  a: alice" in shown and "  b: zhang" in shown
    (tmp_path / "none.toml").write_text("")
    result = cluster_status(tmp_path / "none.toml", a.env)
    assert result.returncode == 2
    assert result.stderr.startswith("chat-server: no [cluster] redis is configured")


async def test_the_per_address_limit_counts_people_on_every_node(
        node: NodeFactory, clients: list[IrcClient | PlainClient]) -> None:
    a, b = node("a", per_ip=2), node("b", per_ip=2)
    one = await irc(clients, a, "one")
    await one.join("#x")
    two = await irc(clients, b, "two")
    await two.join("#x")
    await one.expect(r":two!\S+ JOIN #x")
    third = await IrcClient.connect("127.0.0.1", a.port)
    clients.append(third)
    await third.send("NICK three")
    await third.send("USER u 0 * :u")
    # Node a holds two connections, within its own limit: the hub counted two's too.
    await third.expect("ERROR :Closing Link: .*Too many connections from your address")
    await third.close()
    await two.send("QUIT")
    await one.expect(r":two!\S+ QUIT")  # node a has applied it
    four = await IrcClient.connect("127.0.0.1", a.port)
    clients.append(four)
    await four.register("four")
