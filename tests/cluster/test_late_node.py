"""A late node: it starts from the newest snapshot and the log after it."""

from __future__ import annotations

import json
import re

import redis
from support.cluster import NodeFactory, RedisServer, irc
from support.irc import IrcClient
from support.plain import PlainClient
from support.service import wait_for

SNAPSHOTS = "snapshot_every = 100\n"


async def test_a_late_node_loads_a_snapshot_and_the_trimmed_log_and_sees_everyone(
        node: NodeFactory, redis_server: RedisServer,
        clients: list[IrcClient | PlainClient]) -> None:
    a = node("a", extra=SNAPSHOTS)
    alice = await irc(clients, a, "alice", ("echo-message",))
    await alice.join("#dev")
    await alice.send("TOPIC #dev :kept in the snapshot")
    await alice.send("MODE #dev +k sesame")
    await alice.expect("MODE #dev")
    bob = await irc(clients, a, "bob")
    await bob.send("JOIN #dev sesame")
    await bob.expect(" 366 ")
    for i in range(250):
        await alice.send(f"PRIVMSG #dev :message {i}")
    await alice.expect("message 249")
    wait_for(lambda: "the log is trimmed" in a.text(), "a snapshot")
    length = redis.Redis(port=redis_server.port).xlen("roomchat:log")
    assert length < 250

    late = node("c", extra=SNAPSHOTS)
    joined = re.search(r"joined the network .*: (a snapshot and )?(\d+) log entries", late.text())
    assert joined is not None and joined.group(1), late.text()
    assert int(joined.group(2)) <= length
    carol = await irc(clients, late, "carol")
    await carol.send("NAMES #dev")
    assert set((await carol.expect(" 353 ")).params[-1].split()) == {"@alice", "bob"}
    await carol.send("JOIN #dev")
    await carol.expect(" 475 ")  # the key set before the snapshot holds
    await carol.send("JOIN #dev sesame")
    assert (await carol.expect(" 332 ")).params[-1] == "kept in the snapshot"
    await alice.expect(r":carol!\S+ JOIN #dev")
    await carol.send("PRIVMSG #dev :hello from the late node")
    await bob.expect("hello from the late node")
    await carol.send("NICK alice")
    await carol.expect(" 433 ")


async def test_a_snapshot_never_trims_what_a_live_node_has_not_applied(
        node: NodeFactory, redis_server: RedisServer,
        clients: list[IrcClient | PlainClient]) -> None:
    a = node("a", extra=SNAPSHOTS)
    alice = await irc(clients, a, "alice", ("echo-message",))
    await alice.join("#dev")
    await alice.send("PRIVMSG #dev :before the slow node")
    await alice.expect("before the slow node")
    r = redis.Redis(port=redis_server.port)
    # A node that is alive but has applied only up to here (as its heartbeat says).
    behind = r.xrange("roomchat:log")[-1][0].decode()
    now_ms = int(r.time()[0]) * 1000
    r.zadd("roomchat:alive", {"slow": now_ms})
    r.hset("roomchat:nodes", "slow", json.dumps({"name": "slow", "applied": behind}))
    for i in range(250):
        await alice.send(f"PRIVMSG #dev :message {i}")
    await alice.expect("message 249")
    wait_for(lambda: "the log is trimmed" in a.text(), "a snapshot")
    # Everything after what the slow node applied is still there for it to read.
    after = r.xrange("roomchat:log", min=f"({behind}")
    assert len(after) >= 250
    assert r.xrange("roomchat:log")[0][0].decode() == behind
