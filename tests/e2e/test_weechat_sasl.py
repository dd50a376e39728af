"""WeeChat logs in with SASL SCRAM-SHA-256, in tmux against a chat-server process: the
server is added with WeeChat's own options (/server add ... -sasl_mechanism=...),
WeeChat shows the 900 and its verdict, and the server agrees (WHOIS answers 330)."""

from __future__ import annotations

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


def test_weechat_logs_in_with_sasl_scram_sha_256(tmux: Tmux, tmp_path: Path) -> None:
    weechat = require_tool("weechat", apt="weechat-curses")
    server = ServerProcess(tmp_path)
    bob = None
    try:
        make_account(server.port, "ann", PASSWORD)
        setup = (f"/server add roomchat 127.0.0.1/{server.port} -notls -nicks=ann "
                 f"-sasl_mechanism=scram-sha-256 -sasl_username=ann -sasl_password={PASSWORD}"
                 ";/connect roomchat")
        tmux.start([weechat, "--dir", str(tmp_path / "weechat"), "-r", setup],
                   client_env(tmp_path, ""), width=140, height=40)
        screen = tmux.wait_for("SASL authentication successful")
        assert "You are now logged in as ann" in screen
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
