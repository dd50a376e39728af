"""A real chat-server process keeps what it acknowledged: after SIGTERM everything, after
SIGKILL everything acknowledged more than two commit intervals before; a database it
cannot use stops it at start with one line."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.hermetic import empty_config, hermetic_env
from support.irc import IrcClient
from support.servers import ServerProcess

COMMIT_INTERVAL = 0.05


def store_env(data: Path) -> dict[str, str]:
    # Flood control off: the tests chat faster than a person may.
    return {"ROOMCHAT_STORE_DATA_DIR": str(data),
            "ROOMCHAT_STORE_COMMIT_INTERVAL": str(COMMIT_INTERVAL),
            "ROOMCHAT_LIMITS_FLOOD_RATE": "0"}


def chat_server(tmp_path: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m chat_server ARGS` in a private environment, as an administrator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "chat_server", "--config", str(empty_config(tmp_path)), *args],
        env=hermetic_env(tmp_path, **store_env(data)), cwd=tmp_path,
        capture_output=True, text=True, timeout=30)


def export(tmp_path: Path, data: Path, room: str = "#lobby") -> list[dict[str, str]]:
    done = chat_server(tmp_path, data, "history", "export", room)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


async def chat(port: int, count: int) -> list[str]:
    """Say `count` lines in #lobby; the msgids of the echoes (the acknowledgements)."""
    client = await IrcClient.connect("127.0.0.1", port)
    await client.register("al", caps=("echo-message", "message-tags", "server-time"))
    await client.join("#lobby")
    acked = []
    for n in range(count):
        await client.send(f"PRIVMSG #lobby :line {n}")
        echo = await client.expect(lambda m, n=n: m.command == "PRIVMSG"
                                   and m.param(1) == f"line {n}")
        acked.append(echo.tags["msgid"])
    await client.close()
    return acked


async def test_after_sigterm_export_shows_every_message_with_its_msgid(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(["--log-level", "DEBUG"], env=store_env(data))
    try:
        assert any(f"history in {data / 'roomchat.db'}" in line for line in server.log)
        acked = await chat(server.port, 30)
        server.proc.send_signal(signal.SIGTERM)
        log = await asyncio.to_thread(server.rest_of_log)
        assert server.proc.returncode == 0, log
    finally:
        server.stop()
    lines = [line for line in export(tmp_path, data) if line["kind"] == "PRIVMSG"]
    assert [line["msgid"] for line in lines] == acked
    assert [line["text"] for line in lines] == [f"line {n}" for n in range(30)]
    assert {line["nick"] for line in lines} == {"al"}
    assert all(line["time"].endswith("Z") for line in lines)


async def test_after_sigkill_nothing_acknowledged_is_missing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess([], env=store_env(data))
    try:
        acked = await chat(server.port, 200)
        # What the writer has had two commit intervals to commit must survive a kill -9.
        await asyncio.sleep(2 * COMMIT_INTERVAL)
        server.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(server.proc.communicate, None, 10)
        assert server.proc.returncode == -signal.SIGKILL
    finally:
        server.stop()
    kept = {line["msgid"] for line in export(tmp_path, data)}
    assert [msgid for msgid in acked if msgid not in kept] == []


def refused(tmp_path: Path, data: Path) -> str:
    done = chat_server(tmp_path, data, "--port", "0")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("chat-server: history database ")
    return lines[0]


def test_an_unwritable_data_dir_stops_the_server_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    line = refused(tmp_path, tmp_path / "a-file" / "data")
    assert str(tmp_path / "a-file") in line and "cannot create" in line


def test_a_corrupt_database_stops_the_server_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "roomchat.db").write_bytes(b"\x00garbage\xff" * 1000)
    line = refused(tmp_path, data)
    assert str(data / "roomchat.db") in line and "not a usable SQLite database" in line


def test_a_newer_schema_stops_the_server_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite3.connect(data / "roomchat.db")
    conn.execute("PRAGMA user_version = 42")
    conn.close()
    line = refused(tmp_path, data)
    assert str(data / "roomchat.db") in line and "schema version 42 is newer" in line


async def test_purge_while_the_server_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess([], env=store_env(data))
    try:
        await chat(server.port, 5)
        await asyncio.sleep(2 * COMMIT_INTERVAL)
        done = await asyncio.to_thread(chat_server, tmp_path, data, "history", "purge", "#Lobby")
        assert done.returncode == 0, done.stderr
        assert "purged" in done.stdout
        assert export(tmp_path, data) == []
        assert server.proc.poll() is None  # still running
    finally:
        server.stop()


@pytest.mark.parametrize(("args", "says"), [
    (["history", "purge", "--before", "last tuesday"], "is not a date"),
    (["history", "export", "lobby"], "is not a room name"),
    (["history", "export", "#lobby"], "no history database at"),
])
def test_admin_commands_say_what_is_wrong(tmp_path: Path, args: list[str], says: str) -> None:
    done = chat_server(tmp_path, tmp_path / "nothing-here", *args)
    assert done.returncode != 0
    assert says in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1


async def test_export_of_a_private_conversation_after_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess([], env=store_env(data))
    try:
        al = await IrcClient.connect("127.0.0.1", server.port)
        await al.register("al")
        bo = await IrcClient.connect("127.0.0.1", server.port)
        await bo.register("Bo")
        await al.send("PRIVMSG bo :hi bo")
        await bo.expect(r"PRIVMSG Bo :hi bo")
        await bo.send("PRIVMSG al :hi al")
        await al.expect(r"PRIVMSG al :hi al")
        server.proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.rest_of_log)
        for client in (al, bo):
            await client.close()
    finally:
        server.stop()
    done = chat_server(tmp_path, data, "history", "export", "--nick", "BO", "--with", "Al")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(line["nick"], line["text"]) for line in lines] == [("al", "hi bo"), ("Bo", "hi al")]
