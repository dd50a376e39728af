"""The real chat-client in tmux against a real chat-server, read back with capture-pane."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from client.terminal import (
    BIN,
    TIMEOUT,
    RawIrc,
    ServerProcess,
    Tmux,
    client_env,
    require_tmux,
)

CLIENT_CONFIG = """\
bell = false
reconnect_min = 0.2
reconnect_max = 1.0
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
    tmux: Tmux, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    servers.append(ServerProcess(tmp_path))
    port = servers[0].port
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
    tmux: Tmux, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    servers.append(ServerProcess(tmp_path))
    port = servers[0].port
    start_client(tmux, tmp_path, port, "#lobby", "#dev")
    tmux.key("M-3")
    tmux.wait_for(lambda s: "You joined #dev" in s and "#dev>" in s)
    servers[0].stop()
    tmux.wait_for("[reconnecting")
    # The same port again, as a restarted server would have: it was ours a moment ago.
    servers.append(ServerProcess(tmp_path, port=port))
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


FLOOD_BATCH = 100
FLOOD_PAUSE = 0.05  # pacing, ~2,000 lines a second: a busy room, not a SendQ drop


def flood_until(bob: RawIrc, stop: threading.Event) -> int:
    """Send numbered lines to #lobby until `stop` is set; how many were sent."""
    sent = 0
    while not stop.is_set():
        bob.sock.sendall(b"".join(
            f"PRIVMSG #lobby :flood line {sent + i}\r\n".encode() for i in range(FLOOD_BATCH)))
        sent += FLOOD_BATCH
        stop.wait(FLOOD_PAUSE)
    return sent


def newest_flood_line(screen: str) -> int:
    return max((int(n) for n in re.findall(r"flood line (\d+)", screen)), default=-1)


def test_resize_keeps_the_layout_whole_and_a_flood_does_not_stall_typing(
    tmux: Tmux, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    # Flood control off, so that one sender can keep the room busy.
    servers.append(ServerProcess(tmp_path, "[limits]\nflood_rate = 0\n"))
    port = servers[0].port
    start_client(tmux, tmp_path, port, "#lobby", width=120, height=30)
    bob = RawIrc(port, "bob")
    stop = threading.Event()
    sent: list[int] = []
    flooder = threading.Thread(target=lambda: sent.append(flood_until(bob, stop)))
    try:
        bob.send("JOIN #lobby")
        bob.expect(r" 366 ")
        tmux.wait_for("bob joined")
        flooder.start()
        # The flood lasts until the typing is done, so every keystroke is typed into it.
        tmux.wait_for("flood line")
        latencies = []
        newest = []  # the newest flood line on screen at each keystroke
        typed = ""
        for ch in "typing during a flood":
            typed += ch
            started = time.monotonic()
            tmux.type(ch)
            screen = tmux.wait_for(lambda s, t=typed: input_line(s) == f"#lobby> {t}".rstrip())
            latencies.append(time.monotonic() - started)
            newest.append(newest_flood_line(screen))
        stop.set()
        flooder.join(TIMEOUT)
        bob.send("PRIVMSG #lobby :the flood is over")
        tmux.wait_for("the flood is over", timeout=60)
        # Messages kept arriving on screen between keystrokes: the client drew both.
        assert len(set(newest)) > 1, newest
        # Seconds would mean typing waited for the flood; the round trip through tmux is ms.
        assert max(latencies) < 3.0, latencies
        print(f"{sent[0]} lines flooded while typing; keystroke-to-screen: "
              f"max {max(latencies) * 1000:.0f} ms, "
              f"mean {sum(latencies) / len(latencies) * 1000:.0f} ms")

        for width, height in ((50, 12), (140, 40), (30, 8), (100, 30)):
            tmux.resize(width, height)
            # Whole means: the input line on the last row, the status line just above
            # it, the topic bar on top, nothing wider than the window, and the room
            # list shown exactly when there is room for it.
            tmux.wait_for(
                lambda s, w=width, h=height: whole(s, w, h) and ("*server*" in s) == (w >= 60)
            )
    finally:
        stop.set()
        if flooder.is_alive():
            flooder.join(TIMEOUT)
        bob.close()
