"""--workers: several processes on one port, each a node of the same network."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import redis
from support.cluster import NodeFactory, RedisServer
from support.hermetic import hermetic_env
from support.irc import IrcClient
from support.plain import PlainClient
from support.servers import wait_until
from support.service import wait_for


def node_counts(port: int) -> dict[str, int]:
    client = redis.Redis(port=port)
    try:
        nodes = client.hgetall("roomchat:nodes")
    finally:
        client.close()
    return {json.loads(v)["name"]: json.loads(v)["count"] for v in nodes.values()}


async def test_twenty_connections_spread_over_two_workers_and_chat_across(
        node: NodeFactory, redis_server: RedisServer,
        clients: list[IrcClient | PlainClient]) -> None:
    server = node("w", "--workers", "2")
    people: list[IrcClient] = []
    for i in range(20):
        client = await IrcClient.connect("127.0.0.1", server.port)
        clients.append(client)
        await client.register(f"p{i}")
        await client.join("#lobby")
        people.append(client)
    # Each worker reports its people at its heartbeat (every 0.5 s here).
    await wait_until(lambda: sum(node_counts(redis_server.port).values()) == 20, 10)
    counts = node_counts(redis_server.port)
    assert sorted(counts) == ["w-0", "w-1"], counts
    assert sum(counts.values()) == 20 and min(counts.values()) > 0, counts
    await people[0].send("PRIVMSG #lobby :to everyone on both workers")
    for other in people[1:]:
        await other.expect(r":p0!\S+ PRIVMSG #lobby :to everyone on both workers")
    await people[19].send("PRIVMSG #lobby :and back")
    for other in people[:19]:
        await other.expect(r":p19!\S+ PRIVMSG #lobby :and back")
    await people[5].send("NAMES #lobby")
    names = set((await people[5].expect(" 353 ")).params[-1].split())
    assert {n.lstrip("@") for n in names} == {f"p{i}" for i in range(20)}

    server.proc.send_signal(signal.SIGHUP)  # a reload reaches every worker
    wait_for(lambda: server.text().count("reloading configuration") == 2, "two reloads")
    await people[3].send("PRIVMSG #lobby :still one network")
    await people[4].expect("still one network")
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(20) == 0
    for client in people:
        await client.expect("ERROR", timeout=10)


def test_workers_without_a_cluster_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "chat_server", "--config", str(config), "--workers", "2"],
        env=hermetic_env(tmp_path), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith("chat-server: --workers needs [cluster] redis")
    assert result.stderr.count("\n") == 1


def test_a_daemon_with_workers_stops_on_sigterm(
        tmp_path: Path, redis_server: RedisServer) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path / "data"}"\n'
                      f'[cluster]\nredis = "{redis_server.url}"\nheartbeat_interval = 0.2\n')
    pidfile = tmp_path / "server.pid"
    log = tmp_path / "server.log"
    result = subprocess.run(
        [sys.executable, "-m", "chat_server", "--config", str(config), "--port", "0",
         "--workers", "2", "--daemon", "--pidfile", str(pidfile), "--log-file", str(log)],
        env=hermetic_env(tmp_path), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: pidfile.exists() and log.read_text().count("listening on") == 2,
             "two workers listening")
    pid = int(pidfile.read_text())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pidfile.exists(), "the supervisor gone", timeout=20)
    assert log.read_text().count("stopped") >= 2
