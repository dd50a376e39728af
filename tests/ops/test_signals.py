"""Signals to a foreground chat-server: SIGHUP reloads without dropping anyone (or
refuses a bad file and keeps going), SIGINT and SIGTERM shut down gracefully."""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from support.irc import IrcClient
from support.service import Service

Start = Callable[..., Awaitable[Service]]
Connect = Callable[..., Awaitable[IrcClient]]


async def test_a_bad_file_on_sighup_is_refused_and_the_old_configuration_kept(
    tmp_path: Path, start_service: Start, irc: Connect
) -> None:
    config = tmp_path / "roomchat.toml"
    config.write_text("[limits]\nmax_targets = 3\n")
    service = await start_service("--config", str(config))
    alice = await irc(service.port, "alice")

    config.write_text('[limits]\nmax_targets = "many"\n')
    service.proc.send_signal(signal.SIGHUP)
    await service.expect_log(
        "reload refused, keeping the running configuration: "
        f"{config}: limits.max_targets must be int, got 'many'"
    )
    bob = await irc(service.port, "bob")
    assert any("MAXTARGETS=3" in line for line in bob.seen)
    await alice.send("PING still-there")
    await alice.expect(r" PONG \S+ :?still-there$")


async def test_sighup_applies_limits_and_says_what_needs_a_restart(
    tmp_path: Path, start_service: Start, irc: Connect
) -> None:
    config = tmp_path / "roomchat.toml"
    config.write_text("[limits]\nmax_targets = 4\n")
    service = await start_service("--config", str(config))
    alice = await irc(service.port, "alice")

    elsewhere = tmp_path / "elsewhere"
    config.write_text(
        '[server]\nname = "renamed.example"\npassword = "sesame"\n'
        "[limits]\nmax_targets = 2\nmax_line_bytes = 1024\n"
        f'[store]\ndata_dir = "{elsewhere}"\n'
    )
    service.proc.send_signal(signal.SIGHUP)
    # Changes are logged section by section: [store] comes last.
    await service.expect_log(r"reload: store\.data_dir changed to .*: needs a restart$")
    log = "".join(service.log)
    assert "reload: limits.max_targets 4 -> 2\n" in log
    assert "reload: server.name changed to 'renamed.example': needs a restart\n" in log
    assert "reload: server.password changed\n" in log
    # The open database stays where it is until a restart.
    assert f"reload: store.data_dir changed to '{elsewhere}': needs a restart" in log
    assert not elsewhere.exists()
    assert "reload: limits.max_line_bytes 8703 -> 1024 (for new connections)\n" in log
    assert "sesame" not in log

    bob = await irc(service.port, "bob", password="sesame")
    assert any("MAXTARGETS=2" in line for line in bob.seen)
    # The name stays what connected clients were told.
    assert bob.seen[0].startswith(":roomchat.local ")
    await alice.send("PING still-there")
    await alice.expect(r" PONG \S+ :?still-there$")


async def test_sigint_shuts_down_gracefully_with_status_0(
    start_service: Start, irc: Connect
) -> None:
    service = await start_service()
    alice = await irc(service.port, "alice")
    service.proc.send_signal(signal.SIGINT)
    await alice.expect(r"^ERROR :.*Server shutting down")
    await alice.close()
    assert await service.finish() == 0
    log = "".join(service.log)
    assert "shutting down on SIGINT" in log
    assert "stopped" in log
