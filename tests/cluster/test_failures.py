"""Faults: a node killed, Redis killed and restarted, a Redis that is not ours."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import redis
from support.cluster import Node, NodeFactory, RedisServer, irc, plain
from support.hermetic import hermetic_env
from support.irc import IrcClient
from support.plain import PlainClient


async def test_a_killed_node_s_people_quit_everywhere_and_it_comes_back(
        node: NodeFactory, clients: list[IrcClient | PlainClient]) -> None:
    a, b = node("a", timeout=3.0), node("b", timeout=3.0)
    alice = await irc(clients, a, "alice")
    await alice.join("#lobby")
    watcher = await plain(clients, a, "watcher")
    bob = await irc(clients, b, "bob")
    await bob.join("#lobby")
    await alice.expect(r":bob!\S+ JOIN #lobby")
    b.kill()
    loop = asyncio.get_running_loop()
    killed = loop.time()
    quit_line = await alice.expect(r":bob!\S+ QUIT ", timeout=15)
    assert loop.time() - killed < 15
    assert quit_line.params[-1] == "*.net *.split"
    await watcher.expect(r"\* bob has quit \(\*\.net \*\.split\)", timeout=5)
    await alice.send("WHOIS bob")
    await alice.expect(" 401 ")
    assert re.search(r"INFO chat_server.cluster: node \w+ is down \(\*\.net \*\.split\)",
                     a.text())
    assert re.search(r"INFO chat_server.cluster: node \w+ is up", a.text())

    again = node("b", timeout=3.0)
    bob2 = await irc(clients, again, "bob")
    await bob2.join("#lobby")
    await alice.expect(r":bob!\S+ JOIN #lobby")
    await bob2.send("PRIVMSG #lobby :back again")
    await alice.expect(r":bob!\S+ PRIVMSG #lobby :back again")
    await alice.send("PRIVMSG #lobby :welcome back")
    await bob2.expect(r":alice!\S+ PRIVMSG #lobby :welcome back")


async def test_redis_restarted_clients_stay_and_chat_resumes_in_order(
        node: NodeFactory, redis_server: RedisServer,
        clients: list[IrcClient | PlainClient]) -> None:
    a, b = node("a", timeout=3.0), node("b", timeout=3.0)
    alice = await irc(clients, a, "alice", ("echo-message",))
    await alice.join("#lobby")
    bob = await irc(clients, b, "bob", ("echo-message",))
    await bob.join("#lobby")
    await alice.expect(r":bob!\S+ JOIN #lobby")
    await alice.send("PRIVMSG #lobby :before")
    await bob.expect("PRIVMSG #lobby :?before")
    redis_server.kill()
    await alice.expect("unreachable", timeout=10)
    redis_server.restart()
    loop = asyncio.get_running_loop()
    restarted = loop.time()
    await alice.expect("Reconnected", timeout=10)
    await bob.expect("Reconnected", timeout=10)
    for i in range(20):
        await alice.send(f"PRIVMSG #lobby :after {i}")
    got = [(await bob.expect("PRIVMSG #lobby :after", timeout=10)).params[-1]
           for _ in range(20)]
    assert got == [f"after {i}" for i in range(20)]
    assert loop.time() - restarted < 10
    await bob.send("PRIVMSG #lobby :and back")
    await alice.expect("PRIVMSG #lobby :and back")
    await alice.send("NAMES #lobby")
    assert set((await alice.expect(" 353 ")).params[-1].split()) == {"@alice", "bob"}
    # Nothing twice: each line came once to each.
    for client in (alice, bob):
        lines = [line for line in client.seen if "PRIVMSG #lobby :after" in line]
        assert len(lines) == 20


def run_node(tmp_path: Path, url: str, prefix: str = "roomchat",
             network: str = "roomchat") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "c.toml"
    config.write_text(f'[server]\nnetwork = "{network}"\n[store]\nbackend = "memory"\n'
                      f'[cluster]\nredis = "{url}"\nprefix = "{prefix}"\n')
    return subprocess.run(
        [sys.executable, "-m", "chat_server", "--config", str(config), "--port", "0"],
        env=hermetic_env(tmp_path), capture_output=True, text=True, timeout=30)


def test_an_unreachable_redis_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    from support.cluster import free_port
    result = run_node(tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    assert result.returncode == 1
    assert result.stderr.startswith("chat-server: cannot reach Redis at redis://127.0.0.1:")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_redis_holding_another_network_is_refused(
        tmp_path: Path, redis_server: RedisServer) -> None:
    client = redis.Redis(port=redis_server.port)
    client.hset("roomchat:meta", mapping={"network": "elsewhere", "version": "1"})
    result = run_node(tmp_path, redis_server.url)
    assert result.returncode == 1
    assert "holds the log of network 'elsewhere', not 'roomchat'" in result.stderr
    assert "[cluster] prefix" in result.stderr
    client.hset("other:meta", mapping={"network": "roomchat", "version": "99"})
    result = run_node(tmp_path, redis_server.url, prefix="other")
    assert result.returncode == 1
    assert "log of version 99" in result.stderr
    client.close()


async def test_a_malformed_log_entry_is_logged_and_skipped(
        node: NodeFactory, redis_server: RedisServer,
        clients: list[IrcClient | PlainClient]) -> None:
    a: Node = node("a")
    alice = await irc(clients, a, "alice")
    await alice.join("#lobby")
    bob = await irc(clients, a, "bob")
    await bob.join("#lobby")
    client = redis.Redis(port=redis_server.port)
    for junk in (b"not json", b"[1,99]", b"[1,11,1,2]", b"[7,0]"):
        client.xadd("roomchat:log", {"f": junk})
    client.xadd("roomchat:log", {"other": b"x"})
    client.close()
    await alice.send("PRIVMSG #lobby :still here")
    await bob.expect("PRIVMSG #lobby :still here")
    text = a.text()
    assert text.count("skipped") >= 5
    assert "Traceback" not in text
