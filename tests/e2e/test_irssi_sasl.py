"""irssi logs in with SASL PLAIN, in tmux against a chat-server process: the account is
set up the way irssi's own documentation says (/network add -sasl_mechanism ...,
/server add, /connect), irssi shows the 900 it got, and the server agrees (WHOIS from
someone else answers 330). irssi 1.4 has PLAIN and EXTERNAL only; SCRAM-SHA-256 from a
real client is WeeChat's test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from client.terminal import RawIrc, ServerProcess, Tmux, client_env, make_account
from support.tools import require_tool

PASSWORD = "open-sesame-42"


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    require_tool("tmux", apt="tmux")
    term = Tmux(tmp_path)
    yield term
    term.kill()


def test_irssi_logs_in_with_sasl_plain(tmux: Tmux, tmp_path: Path) -> None:
    irssi = require_tool("irssi", apt="irssi")
    server = ServerProcess(tmp_path)
    bob = None
    try:
        make_account(server.port, "ann", PASSWORD)
        home = tmp_path / "irssi"
        home.mkdir()
        (home / "config").write_text(
            'settings = { "irc/core" = { cmd_queue_speed = "0msec"; '
            'cmds_max_at_once = "1000"; }; };\n')
        tmux.start([irssi, f"--home={home}", "-n", "ann"], client_env(tmp_path, ""),
                   width=120, height=30)
        tmux.wait_for("Irssi v")
        for command in (
            f"/network add -sasl_mechanism plain -sasl_username ann "
            f"-sasl_password {PASSWORD} roomchat",
            f"/server add -network roomchat 127.0.0.1 {server.port}",
            "/connect roomchat",
        ):
            tmux.type(command)
            tmux.key("Enter")
        # irssi prints the 900's text, then its own word for the SASL outcome.
        screen = tmux.wait_for(
            lambda s: re.search(r"Welcome to the \S+ IRC Network ann!", s) is not None)
        assert "You are now logged in as ann" in screen
        assert "SASL authentication succeeded" in screen
        assert "Capabilities acknowledged: sasl" in screen
        bob = RawIrc(server.port, "bob")
        bob.send("WHOIS ann")
        logged_in = bob.expect(r" 330 bob ann ")
        assert logged_in.split()[4] == "ann", logged_in
        tmux.type("/quit")
        tmux.key("Enter")
        tmux.wait_for("EXITED 0")
        assert PASSWORD not in server.log_path.read_text()
    finally:
        if bob is not None:
            bob.close()
        server.stop()
