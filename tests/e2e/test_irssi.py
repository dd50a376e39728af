"""A real IRC client, irssi, in tmux against a chat-server process.

Hand-written lines test what the server says; irssi tests that a client people use
understands it: it connects and registers, joins, sends and shows messages, and
quits with its message reaching the room.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from client.terminal import RawIrc, ServerProcess, Tmux, client_env
from support.tools import require_tool


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    require_tool("tmux", apt="tmux")
    term = Tmux(tmp_path)
    yield term
    term.kill()


def test_irssi_registers_joins_chats_and_quits(tmux: Tmux, tmp_path: Path) -> None:
    irssi = require_tool("irssi", apt="irssi")
    server = ServerProcess(tmp_path)
    bob = RawIrc(server.port, "bob")
    try:
        bob.send("JOIN #interop")
        bob.expect(r" 366 ")
        home = tmp_path / "irssi"
        home.mkdir()
        # irssi paces its own commands (five at once, then one each 2.2 s); a test
        # needs no protection from itself.
        (home / "config").write_text(
            'settings = { "irc/core" = { cmd_queue_speed = "0msec"; '
            'cmds_max_at_once = "1000"; }; };\n')
        tmux.start([irssi, f"--home={home}", "-c", "127.0.0.1", "-p", str(server.port),
                    "-n", "irssiuser"], client_env(tmp_path, ""), width=120, height=30)
        # irssi shows the server's welcome once it is registered.
        tmux.wait_for(lambda s: re.search(r"Welcome to the \S+ IRC Network", s) is not None)
        tmux.type("/join #interop")
        tmux.key("Enter")
        bob.expect(r"^:irssiuser!\S+ JOIN :?#interop$")
        tmux.wait_for(lambda s: "#interop" in s and "bob" in s)
        tmux.type("hello from irssi")
        tmux.key("Enter")
        bob.expect(r"^:irssiuser!\S+ PRIVMSG #interop :hello from irssi$")
        bob.send("PRIVMSG #interop :irssi reads this")
        tmux.wait_for(lambda s: re.search(r"bob.*irssi reads this", s) is not None)
        tmux.type("/quit see you")
        tmux.key("Enter")
        quit_ = bob.expect(r"^:irssiuser!\S+ QUIT ")
        assert quit_.endswith("see you"), quit_
        tmux.wait_for("EXITED 0")
    finally:
        bob.close()
        server.stop()
