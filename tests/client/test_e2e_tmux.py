"""The real chat-client in tmux against a real chat-server, read back with capture-pane."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from client.terminal import (
    BIN,
    TMUX_MISSING,
    TMUX_REASON,
    RawIrc,
    ServerProcess,
    Tmux,
    client_env,
    free_port,
)

pytestmark = pytest.mark.skipif(TMUX_MISSING, reason=TMUX_REASON)

CLIENT_CONFIG = """\
bell = false
reconnect_min = 0.2
reconnect_max = 1.0
"""


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    term = Tmux(tmp_path)
    yield term
    term.kill()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def start_client(tmux: Tmux, tmp_path: Path, port: int, *rooms: str,
                 width: int = 100, height: int = 30) -> None:
    argv = [str(BIN / "chat-client"), f"127.0.0.1:{port}", "--nick", "tester"]
    for room in rooms:
        argv += ["--room", room]
    tmux.start(argv, client_env(tmp_path, CLIENT_CONFIG), width, height)
    tmux.wait_for(lambda s: "[connected]" in s and f"You joined {rooms[0]}" in s)


def whole(screen: str, width: int, height: int) -> bool:
    rows = screen.rstrip("\n").split("\n")
    return (
        len(rows) == height
        and rows[-1].startswith("#lobby> typing")
        and rows[-2].startswith(" tester @")
        and rows[0].startswith(" #lobby")
        and all(len(row) <= width for row in rows)
    )


def input_line(screen: str) -> str:
    return [line for line in screen.rstrip("\n").split("\n") if line.strip()][-1].rstrip()


def test_messages_arrive_while_typing_and_the_half_typed_line_survives(
    tmux: Tmux, tmp_path: Path, port: int, servers: list[ServerProcess]
) -> None:
    servers.append(ServerProcess(port, tmp_path))
    start_client(tmux, tmp_path, port, "#lobby")
    bob = RawIrc(port, "bob")
    try:
        bob.send("JOIN #lobby")
        bob.expect(r" 366 ")
        tmux.wait_for("bob joined")
        tmux.type("half-way thr")
        tmux.wait_for(lambda s: input_line(s) == "#lobby> half-way thr")
        bob.send("PRIVMSG #lobby :a message that arrives while you type")
        screen = tmux.wait_for("a message that arrives while you type")
        assert input_line(screen) == "#lobby> half-way thr"
        tmux.type("ough, then sent")
        tmux.key("Enter")
        bob.expect(r"^:tester!\S+ PRIVMSG #lobby :half-way through, then sent$")
        screen = tmux.wait_for(lambda s: "tester │ half-way through, then sent" in s
                               and input_line(s) == "#lobby>")
        tmux.key("C-c")
        bob.expect(r"^:tester!\S+ QUIT ")
        tmux.wait_for("EXITED 0")
    finally:
        bob.close()


def test_reconnects_and_rejoins_after_the_server_restarts(
    tmux: Tmux, tmp_path: Path, port: int, servers: list[ServerProcess]
) -> None:
    servers.append(ServerProcess(port, tmp_path))
    start_client(tmux, tmp_path, port, "#lobby", "#dev")
    tmux.key("M-3")
    tmux.wait_for(lambda s: "You joined #dev" in s and "#dev>" in s)
    servers[0].stop()
    tmux.wait_for("[reconnecting")
    servers.append(ServerProcess(port, tmp_path))
    tmux.wait_for(lambda s: "[connected]" in s and "reconnecting" not in s.split("\n")[-3:][0])
    bob = RawIrc(port, "bob")
    try:
        for room in ("#lobby", "#dev"):
            bob.send(f"JOIN {room}")
            names = bob.expect(rf" 353 bob . {room} :")
            assert "tester" in names.split(":", 2)[2].replace("@", "").split()
        bob.send("PRIVMSG #dev :welcome back")
        tmux.wait_for("welcome back")
    finally:
        bob.close()


def test_resize_keeps_the_layout_whole_and_a_flood_does_not_stall_typing(
    tmux: Tmux, tmp_path: Path, port: int, servers: list[ServerProcess]
) -> None:
    # Flood control off, so that one sender can deliver 10,000 lines at once.
    servers.append(ServerProcess(port, tmp_path, "[limits]\nflood_rate = 0\n"))
    start_client(tmux, tmp_path, port, "#lobby", width=120, height=30)
    bob = RawIrc(port, "bob")
    try:
        bob.send("JOIN #lobby")
        bob.expect(r" 366 ")
        tmux.wait_for("bob joined")
        flood_started = time.monotonic()
        bob.sock.sendall(b"".join(
            f"PRIVMSG #lobby :flood line {i}\r\n".encode() for i in range(10_000)))
        latencies = []
        during = 0  # keystrokes echoed before the flood's last line was on screen
        typed = ""
        for ch in "typing during a flood":
            typed += ch
            started = time.monotonic()
            tmux.type(ch)
            screen = tmux.wait_for(lambda s, t=typed: input_line(s) == f"#lobby> {t}".rstrip())
            latencies.append(time.monotonic() - started)
            during += "flood line 9999" not in screen
        typing_done = time.monotonic() - flood_started
        tmux.wait_for("flood line 9999", timeout=30)
        flood_done = time.monotonic() - flood_started
        # Each sample includes a tmux send-keys and capture-pane round trip.
        assert during > 0, "the flood was over before the first keystroke"
        # Seconds would mean typing waited for the flood; the round trip through tmux is ms.
        assert max(latencies) < 3.0, latencies
        print(f"{during} keystrokes during the flood; keystroke-to-screen: "
              f"max {max(latencies) * 1000:.0f} ms, "
              f"mean {sum(latencies) / len(latencies) * 1000:.0f} ms; typing took "
              f"{typing_done:.2f} s, the last line was on screen after {flood_done:.2f} s")

        for width, height in ((50, 12), (140, 40), (30, 8), (100, 30)):
            tmux.resize(width, height)
            # Whole means: the input line on the last row, the status line just above
            # it, the topic bar on top, nothing wider than the window, and the room
            # list shown exactly when there is room for it.
            tmux.wait_for(
                lambda s, w=width, h=height: whole(s, w, h) and ("*server*" in s) == (w >= 60)
            )
    finally:
        bob.close()
