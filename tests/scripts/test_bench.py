"""scripts/bench still works: a tiny fan-out against a real server, its JSON line checked.

Functional only: the figures themselves are checked by scripts/bench-compare, never by
timed tests here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.hermetic import empty_config, hermetic_env

REPO = Path(__file__).resolve().parents[2]
CHAT_SERVER = Path(sys.executable).parent / "chat-server"


LISTENING = re.compile(r"listening on [\d.]+:(\d+)")


def port_from_log(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """The port a server started with --port 0 says it listens on (its first log lines)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode("utf-8", "replace")
        if not line:
            break
        seen.append(line)
        found = LISTENING.search(line)
        if found:
            return int(found.group(1))
    pytest.fail(f"server did not say where it listens: {''.join(seen)}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A real roomchat server on a port it picks, flood control off as for benchmarks."""
    env = hermetic_env(tmp_path, ROOMCHAT_LIMITS_FLOOD_RATE="0")
    proc = subprocess.Popen(
        [str(CHAT_SERVER), "--host", "127.0.0.1", "--port", "0",
         "--config", str(empty_config(tmp_path))],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stderr is not None
    # After the port, the rest of its log is read and dropped: a full pipe would stall it.
    drain = threading.Thread(target=proc.stderr.read, daemon=True)
    try:
        port = port_from_log(proc, 15.0)
        drain.start()
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if drain.is_alive():
            drain.join(10)
        proc.stderr.close()


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
    # IRC does not echo a sender's own message; plain mode does (docs/PLAIN-MODE.md).
    assert result["sent"] == messages
    assert result["deliveries"] == messages * receivers == result["expected"]
    assert result["loss"] == 0
    assert result["duplicates"] == 0
    assert result["unexpected"] == 0
    assert result["server_cpu_s"] is not None
    assert result["latency_ms"]["max"] >= result["latency_ms"]["p50"] > 0


def test_chatbench_builds_and_measures_a_tiny_fanout(
    server: tuple[int, int], tmp_path: Path
) -> None:
    """The C generator scripts/bench-compare uses: built here, its JSON read as the table does."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from benchlib.compare import build_chatbench, chatbench_result
    finally:
        sys.path.remove(str(REPO / "scripts"))
    port, pid = server
    binary = build_chatbench(tmp_path / "chatbench")
    out = subprocess.run(
        [str(binary), "--scenario", "fanout", "--proto", "irc", "--port", str(port),
         "--server-pid", str(pid), "--rooms", "2", "--clients", "4", "--senders", "1",
         "--messages", "50", "--window", "10", "--max-time", "30", "--drain-timeout", "5"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert out.returncode == 0, out.stderr
    result = chatbench_result("F1", json.loads(out.stdout.strip().splitlines()[-1]))
    # Two rooms, one sender each, three others in each room hear every message.
    assert result["expected"] == 2 * 50 * 3 == result["deliveries"]
    assert result["loss"] == 0
    assert result["duplicates"] == 0
    assert result["chatbench"]["foreign"] == 0
    assert result["chatbench"]["self_echo"] == 0
    assert result["deliveries_per_s"] > 0
    assert result["server_cpu_pct"] is not None
