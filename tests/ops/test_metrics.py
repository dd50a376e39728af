"""/metrics and /healthz over real HTTP, read with prometheus_client's own parser: the
counters follow a scripted client, health follows the store, a busy port stops the start."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from support.irc import IrcClient
from support.servers import make_config, wait_until
from support.service import clean_env, run_cli
from support.tls import Pki, tls_client, tls_config

from chat_server.app import ChatServer
from chat_server.store.base import DB_NAME


@asynccontextmanager
async def metered(**settings: Any) -> AsyncIterator[ChatServer]:
    config = make_config(**settings)
    config.metrics.listen = "127.0.0.1:0"
    config.metrics.lag_interval = 0.05
    server = ChatServer(config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def http_get(server: ChatServer, path: str) -> tuple[int, str]:
    host, port = server.metrics_addresses[0]
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    async with asyncio.timeout(5):
        raw = await reader.read()
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


async def scrape(server: ChatServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}, parsed by prometheus_client."""
    status, body = await http_get(server, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counters_follow_a_client_that_connects_talks_and_is_dropped_for_flooding(
) -> None:
    async with metered(flood_burst=5, flood_rate=1.0, flood_backlog=10) as server:
        before = await scrape(server)
        host, port = server.addresses[0]
        alice = await IrcClient.connect(host, port)
        bob = await IrcClient.connect(host, port)
        await alice.register("alice")
        await bob.register("bob")
        await alice.join("#lobby")
        await bob.join("#lobby")
        during = await scrape(server)
        assert value(during, "roomchat_connections_open", dialect="irc", transport="tcp") == 2
        assert value(during, "roomchat_registrations_total") == 2

        await alice.send("PRIVMSG #lobby :hello")
        await bob.expect(r"PRIVMSG #lobby :?hello$")
        # Flood: far past burst plus backlog, so the server cuts alice off.
        await alice.send_raw(b"".join(b"PRIVMSG #lobby :flood %d\r\n" % n for n in range(100)))
        lines = await alice.at_eof()
        assert any("Excess Flood" in line for line in lines)
        await alice.close()
        listener = server.listener
        assert listener is not None
        await wait_until(lambda: len(listener.connections) == 1)

        after = await scrape(server)
        assert value(after, "roomchat_connections_open", dialect="irc", transport="tcp") == 1
        assert value(after, "roomchat_connections_total", dialect="irc", transport="tcp") == 2
        assert value(after, "roomchat_disconnects_total", reason="excess_flood") == 1
        assert value(after, "roomchat_commands_total", command="JOIN") == 2
        privmsgs = value(after, "roomchat_commands_total", command="PRIVMSG")
        assert 2 <= privmsgs < 100  # what the bucket let through; the flood was cut
        assert value(after, "roomchat_messages_received_total") == privmsgs
        for name in ("roomchat_received_bytes_total", "roomchat_sent_bytes_total",
                     "roomchat_deliveries_total", "roomchat_socket_writes_total"):
            assert value(after, name) > value(before, name), name
        # Deliveries are coalesced: fewer socket writes than pieces written.
        assert (value(after, "roomchat_socket_writes_total")
                < value(after, "roomchat_deliveries_total"))
        assert value(after, "roomchat_store_healthy") == 1
        await bob.close()


async def test_event_loop_lag_is_sampled_into_a_histogram() -> None:
    async with metered() as server:
        async with asyncio.timeout(5):
            while not value(await scrape(server), "roomchat_event_loop_lag_seconds_count"):
                await asyncio.sleep(0.02)  # the probe runs every 0.05 s
        samples = await scrape(server)
        assert value(samples, "roomchat_event_loop_lag_seconds_bucket", le="+Inf") == value(
            samples, "roomchat_event_loop_lag_seconds_count")
        # An idle loop runs its timers well within a second of when they are due.
        assert value(samples, "roomchat_event_loop_lag_seconds_bucket", le="1.0") == value(
            samples, "roomchat_event_loop_lag_seconds_count")


async def test_a_plain_user_and_a_quit_are_counted_by_dialect_and_reason() -> None:
    async with metered() as server:
        host, port = server.addresses[0]
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"zoe\n")
        async with asyncio.timeout(5):
            while b"Welcome, zoe" not in await reader.readline():
                pass
        during = await scrape(server)
        assert value(during, "roomchat_connections_open", dialect="plain", transport="tcp") == 1
        writer.write(b"/quit\n")
        async with asyncio.timeout(5):
            await reader.read()
        writer.close()
        listener = server.listener
        assert listener is not None
        await wait_until(lambda: not listener.connections)
        after = await scrape(server)
        assert value(after, "roomchat_connections_total", dialect="plain", transport="tcp") == 1
        assert value(after, "roomchat_disconnects_total", reason="quit") == 1


async def test_healthz_is_200_while_the_store_writes_and_503_while_it_cannot(
    tmp_path: Path,
) -> None:
    async with metered(store_backend="sqlite", store_data_dir=str(tmp_path),
                       store_busy_timeout=0.05) as server:
        assert await http_get(server, "/healthz") == (200, "ok\n")
        # Another process holds the database's write lock: history cannot be written.
        blocker = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            host, port = server.addresses[0]
            alice = await IrcClient.connect(host, port)
            await alice.register("alice")
            await alice.join("#lobby")
            await alice.send("PRIVMSG #lobby :kept for later")
            await wait_until(lambda: not server.store.healthy, timeout=10)
            status, body = await http_get(server, "/healthz")
            assert status == 503
            assert body.startswith("store is not writing: ")
            samples = await scrape(server)
            assert value(samples, "roomchat_store_healthy") == 0
            assert value(samples, "roomchat_store_queue_depth") >= 1
        finally:
            blocker.execute("COMMIT")
            blocker.close()
        await wait_until(lambda: server.store.healthy, timeout=15)
        assert await http_get(server, "/healthz") == (200, "ok\n")
        # The held line was committed once the lock went: its transaction was timed.
        await wait_until(lambda: server.store.queue_depth == 0, timeout=15)
        samples = await scrape(server)
        assert value(samples, "roomchat_store_commit_seconds_count") >= 1
        assert value(samples, "roomchat_store_commit_seconds_bucket", le="+Inf") == value(
            samples, "roomchat_store_commit_seconds_count")
        assert value(samples, "roomchat_store_commit_seconds_sum") > 0
        await alice.close()


async def test_unknown_paths_and_methods_get_a_clear_http_error() -> None:
    async with metered() as server:
        status, body = await http_get(server, "/nope")
        assert (status, body) == (404, "not found: try /metrics or /healthz\n")
        host, port = server.metrics_addresses[0]
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"garbage\r\n\r\n")
        async with asyncio.timeout(5):
            assert (await reader.read()).startswith(b"HTTP/1.1 400 ")
        writer.close()


def test_a_metrics_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "roomchat.toml"
        config.write_text(f'[store]\nbackend = "memory"\n'
                          f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
        result = run_cli("--config", str(config), "--port", "0", env=clean_env(tmp_path))
    assert result.returncode == 1
    assert result.stderr == (
        f"chat-server: cannot listen for metrics on 127.0.0.1:{port}: Address already in use\n"
    )


async def test_tls_connections_and_failed_handshakes_are_counted(tmp_path: Path) -> None:
    pki = Pki.make(tmp_path / "pki")
    config = tls_config(pki)
    config.metrics.listen = "127.0.0.1:0"
    server = ChatServer(config)
    await server.start()
    try:
        port = server.tls_addresses[0][1]
        alice = await tls_client(port, pki.client_context())
        await alice.register("alice")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"\x16\x03\x01\x00\x05hello")  # a TLS record that is no ClientHello
        async with asyncio.timeout(5):
            await reader.read()
        writer.close()
        listener = server.listener
        assert listener is not None
        await wait_until(lambda: len(listener.connections) == 1)
        samples = await scrape(server)
        assert value(samples, "roomchat_connections_open", dialect="irc", transport="tls") == 1
        assert value(samples, "roomchat_connections_total", dialect="undecided",
                     transport="tls") == 1
        assert value(samples, "roomchat_disconnects_total", reason="tls_handshake") == 1
        await alice.close()
    finally:
        await server.stop()
