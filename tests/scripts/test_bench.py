"""scripts/bench still works: a tiny fan-out against a real server, its JSON line checked.

Functional only: the figures themselves are checked by scripts/bench-compare, never by
timed tests here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHAT_SERVER = Path(sys.executable).parent / "chat-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_listening(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    pytest.fail(f"server not listening on {port} after {timeout} s")


@pytest.fixture
def server() -> Iterator[tuple[int, int]]:
    """A real roomchat server on a free port, flood control off as for benchmarks."""
    port = free_port()
    env = {**os.environ, "ROOMCHAT_LIMITS_FLOOD_RATE": "0"}
    proc = subprocess.Popen(
        [str(CHAT_SERVER), "--host", "127.0.0.1", "--port", str(port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_until_listening(port, proc, 15.0)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.mark.parametrize(("dialect", "receivers"), [("irc", 2), ("plain", 3)])
def test_tiny_fanout_reports_every_delivery(
    server: tuple[int, int], dialect: str, receivers: int
) -> None:
    port, pid = server
    messages = 20
    out = subprocess.run(
        [str(REPO / "scripts/bench"), "fanout", "--port", str(port), "--server-pid", str(pid),
         "--dialect", dialect, "--rooms", "1", "--clients", "3", "--senders", "1",
         "--messages", str(messages), "--window", "5", "--duration", "10", "--drain", "5"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert out.returncode == 0, out.stderr
    *human, last = out.stdout.strip().splitlines()
    assert human and "deliveries/s" in human[0]
    result = json.loads(last)
    # IRC does not echo a sender's own message; plain mode does (PLAIN-MODE.md).
    assert result["sent"] == messages
    assert result["deliveries"] == messages * receivers == result["expected"]
    assert result["loss"] == 0
    assert result["duplicates"] == 0
    assert result["unexpected"] == 0
    assert result["server_cpu_s"] is not None
    assert result["latency_ms"]["max"] >= result["latency_ms"]["p50"] > 0
