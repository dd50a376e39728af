"""Logs: text by default, JSON lines on request; connections with address and reason;
never message text or passwords at INFO."""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from support.irc import IrcClient
from support.service import Service

from chat_server.ops.logs import TEXT_FORMAT, JsonFormatter, TextFormatter

Start = Callable[..., Awaitable[Service]]
Connect = Callable[..., Awaitable[IrcClient]]


async def test_json_lines_with_lifecycle_and_no_message_text_or_password(
    tmp_path: Path, start_service: Start, irc: Connect
) -> None:
    config = tmp_path / "roomchat.toml"
    config.write_text('[server]\npassword = "pass-SECRET-1"\n')
    service = await start_service("--config", str(config), "--log-format", "json")
    alice = await irc(service.port, "alice", password="pass-SECRET-1")
    bob = await irc(service.port, "bob", password="pass-SECRET-1")
    await alice.join("#room")
    await bob.join("#room")
    await alice.send("PRIVMSG #room :text-SECRET-2")
    await bob.expect("text-SECRET-2")
    await alice.send("PRIVMSG bob :private-SECRET-3")
    await bob.expect("private-SECRET-3")
    await alice.send("QUIT :quit-SECRET-4")
    await alice.at_eof()
    await alice.close()
    await service.expect_log(r"disconnect 127\.0\.0\.1:\d+ nick=alice reason=Quit ")
    service.proc.send_signal(signal.SIGTERM)
    await bob.expect(r"^ERROR ")
    await bob.close()
    assert await service.finish() == 0

    entries = [json.loads(line) for line in service.log]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    messages = [entry["message"] for entry in entries]
    assert any(m.startswith("connect 127.0.0.1:") for m in messages)
    assert any(m.startswith("disconnect 127.0.0.1:") and "nick=bob reason=Server shutting down"
               in m for m in messages)
    assert "SECRET" not in "".join(service.log)


async def test_text_is_the_default(start_service: Start) -> None:
    service = await start_service()
    assert " INFO chat_server: listening on 127.0.0.1:" in service.log[-1]
    service.proc.send_signal(signal.SIGTERM)
    assert await service.finish() == 0


def test_json_formatter_keeps_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError as exc:
        record = logging.LogRecord("chat_server.x", logging.ERROR, __file__, 1,
                                   "failed for %s", ("10.0.0.1",), (type(exc), exc, None))
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed for 10.0.0.1"
    assert entry["level"] == "ERROR"
    assert "ValueError: boom" in entry["exception"]


def test_text_lines_read_as_the_standard_format_across_seconds() -> None:
    """The time is formatted once per second: each line must still carry its own
    second and milliseconds, as logging's own formatter writes them."""
    ours, stdlib = TextFormatter(), logging.Formatter(TEXT_FORMAT)
    for created in (1_700_000_000.0, 1_700_000_000.9996, 1_700_000_001.002, 1_700_000_061.5):
        record = logging.LogRecord("chat_server.server", logging.INFO, __file__, 1,
                                   "connect %s", ("127.0.0.1:5",), None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.format(record) == stdlib.format(record)
