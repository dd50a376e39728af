"""History in the real chat-client, in tmux, against a real chat-server keeping SQLite history.

A raw IRC client fills #lobby first; the client then shows the latest lines with the
times the server gave them, pages back to the very first line with PageUp, and after
the server restarts on the same data directory shows what was said while it was
away, once each, counting it unread in the room not in view.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from client.terminal import BIN, RawIrc, ServerProcess, Tmux, client_env, require_tmux

from chat_server.protocol.message import parse_line

LINES = 150
# Seconds on screen, so that each line's time can be checked against the server's.
# The first retry waits 4 to 8 seconds: time for the server to restart and a raw
# client to speak in the gap (well under a second on an idle machine).
CLIENT_CONFIG = """\
bell = false
timestamp_format = "%H:%M:%S"
reconnect_min = 8.0
reconnect_max = 8.0
"""


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    require_tmux()
    term = Tmux(tmp_path)
    yield term
    term.kill()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def server_config(tmp_path: Path) -> str:
    # Flood control off, so that 150 lines are said in moments rather than a minute.
    return (f'[store]\nbackend = "sqlite"\ndata_dir = "{tmp_path / "store"}"\n'
            "[limits]\nflood_rate = 0\n")


def speaker(port: int, nick: str, *rooms: str) -> RawIrc:
    """A raw client in `rooms` that sees its own messages with their server time."""
    irc = RawIrc(port, nick)
    irc.send("CAP REQ :server-time echo-message")
    irc.expect(r" CAP \S+ ACK ")
    for room in rooms:
        irc.send(f"JOIN {room}")
        irc.expect(rf" 366 {nick} {room} ")
    return irc


def say(irc: RawIrc, room: str, text: str) -> str:
    """Say `text`; return the time the server stamped it with, as the client shows it."""
    irc.send(f"PRIVMSG {room} :{text}")
    echo = irc.expect(rf"PRIVMSG {room} :{re.escape(text)}$")
    stamp = re.search(r"(?:^@|;)time=([^; ]+)", echo)
    assert stamp is not None, echo
    return datetime.fromisoformat(stamp.group(1)).strftime("%H:%M:%S")


def shown(screen: str, text: str) -> int:
    """How many times a message line `text` is on the screen."""
    return len(re.findall(rf"│ {re.escape(text)}\s*(?:│|$)", screen, re.MULTILINE))


def moved_from(before: str, *, settled: bool = False) -> Callable[[str], bool]:
    """A screen check: different from `before` (and, if `settled`, not loading)."""
    return lambda s: s != before and not (settled and "loading older lines" in s)


def page_up_until(tmux: Tmux, text: str, presses: int = 40) -> str:
    """PageUp, each time waiting for the screen to move (or older lines to arrive)."""
    screen = tmux.screen()
    for _ in range(presses):
        if shown(screen, text):
            return screen
        tmux.key("PPage")
        screen = tmux.wait_for(moved_from(screen, settled=True))
    raise AssertionError(f"{text!r} never came into view; last screen:\n{screen}")


def page_down_to_the_end(tmux: Tmux) -> str:
    screen = tmux.screen()
    while "(PgDn)" in screen:
        tmux.key("NPage")
        screen = tmux.wait_for(moved_from(screen))
    return screen


def test_history_on_join_paging_back_and_catching_up_after_a_restart(
    tmux: Tmux, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    servers.append(ServerProcess(tmp_path, server_config(tmp_path)))
    port = servers[0].port
    alice = speaker(port, "alice", "#lobby")
    try:
        times = {n: say(alice, "#lobby", f"said {n:03}") for n in range(1, LINES + 1)}
    finally:
        alice.close()

    argv = [str(BIN / "chat-client"), f"127.0.0.1:{port}", "--nick", "tester",
            "--room", "#lobby", "--room", "#dev"]
    tmux.start(argv, client_env(tmp_path, CLIENT_CONFIG), 100, 30)
    # Joining shows the latest lines, each with the time the server said it was said.
    screen = tmux.wait_for(lambda s: "[connected]" in s and shown(s, f"said {LINES}") == 1
                           and "#lobby>" in s)
    assert re.search(rf"{times[LINES]}\s+alice │ said {LINES}", screen), screen
    assert re.search(rf"{times[LINES - 1]}\s+alice │ said {LINES - 1:03}", screen), screen
    assert screen.index(f"said {LINES - 1:03}") < screen.index(f"said {LINES}")

    # PageUp pages back through older history, fetched as it goes, to the first line.
    screen = page_up_until(tmux, "said 001")
    assert re.search(rf"{times[1]}\s+alice │ said 001", screen), screen
    assert screen.index("said 001") < screen.index("said 002")
    screen = tmux.wait_for("beginning of history")
    assert screen.index("beginning of history") < screen.index("said 001")
    page_down_to_the_end(tmux)

    # The server restarts on the same data; lines are said while the client is away.
    servers[0].stop()
    tmux.wait_for("[reconnecting")
    servers.append(ServerProcess(tmp_path, server_config(tmp_path), port=port))
    alice = speaker(port, "alice", "#lobby", "#dev")
    try:
        for n in (1, 2, 3):
            say(alice, "#lobby", f"missed {n}")
        say(alice, "#dev", "missed in dev")
        alice.send("NAMES #lobby")
        names = parse_line(alice.expect(r" 353 alice . #lobby ")).params[-1].split()
        assert "tester" not in names, "the client came back too soon to test the gap"

        screen = tmux.wait_for(lambda s: "[connected]" in s and shown(s, "missed 3") == 1)
        assert [shown(screen, f"missed {n}") for n in (1, 2, 3)] == [1, 1, 1], screen
        assert screen.index("missed 1") < screen.index("missed 2") < screen.index("missed 3")
        assert shown(screen, f"said {LINES}") == 1  # what was there before stays, once
        # The room not in view counts what it missed as unread: " 3 #dev ... 1".
        dev_row = next(row for row in screen.split("\n") if " #dev" in row)
        assert re.search(r"#dev\s+1\s", dev_row), screen
        say(alice, "#lobby", "live again")
        screen = tmux.wait_for(lambda s: shown(s, "live again") == 1)
        assert shown(screen, "missed 3") == 1
    finally:
        alice.close()
    tmux.key("C-c")
    tmux.wait_for("EXITED 0")
