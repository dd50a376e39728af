"""scripts/bench-compare: the same scenarios against roomchat, ngIRCd and InspIRCd.

Each scenario gets a freshly started server (so memory and state start equal), pinned to
CPU 0 while the generator, its own process, is pinned to CPU 1 when the machine has two or
more. The IRC scenarios are driven by chatbench (scripts/chatbench/chatbench.c, built
here with gcc), which reads deliveries several times faster than any of these servers
makes them; the plain dialect by scripts/bench. Results are printed as a table with
ratios and the issue's targets, and can be saved as JSON for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .procinfo import machine_busy_seconds

REPO = Path(__file__).resolve().parents[2]
PR_SET_PDEATHSIG = 1

# The reference scenarios, run by chatbench (scripts/chatbench/chatbench.c, a one-file C
# load generator, so that the figures are the server's and not the generator's):
# name -> (what it is, chatbench's arguments).
SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "F1": ("fan-out 1 room x 200, 1 sender, 1,000 in flight",
           ["--scenario", "fanout", "--rooms", "1", "--clients", "200", "--senders", "1",
            "--messages", "20000", "--size", "100", "--window", "1000"]),
    "F2": ("fan-out 20 rooms x 50, 5 senders each, 20 in flight",
           ["--scenario", "fanout", "--rooms", "20", "--clients", "50", "--senders", "5",
            "--messages", "0", "--duration", "10", "--size", "100", "--window", "20"]),
    "L": ("latency: 200 msg/s into a room of 200",
          ["--scenario", "fanout", "--rooms", "1", "--clients", "200", "--senders", "1",
           "--messages", "2000", "--rate", "200", "--size", "100", "--window", "1000"]),
    "I": ("idle: 10,000 registered connections in 200 rooms, held 10 s",
          ["--scenario", "idle", "--conns", "10000", "--rooms", "200", "--duration", "10"]),
    "C": ("churn: connect, register, join, one line, quit; 10 at a time",
          ["--scenario", "churn", "--conns", "20000", "--rooms", "10", "--duration", "20",
           "--conc", "10"]),
}
QUICK: dict[str, list[str]] = {
    "F1": ["--messages", "2000"],
    "F2": ["--duration", "2"],
    "L": ["--messages", "400"],
    "I": ["--conns", "1000", "--duration", "1"],
    "C": ["--conns", "500", "--duration", "2"],
}
# Every chatbench run is bounded whatever the server does.
CHATBENCH_LIMITS = ["--max-time", "120", "--setup-timeout", "60", "--drain-timeout", "5"]

# The plain dialect (netcat users) is measured with the Python generator (scripts/bench),
# which speaks it the way people do: the first line is the nick and everyone lands in
# #lobby, so N plain arrivals are announced to everyone already there (N*N/2 lines).
# name -> (scripts/bench scenario, its arguments, the --quick additions).
PLAIN: dict[str, tuple[str, list[str], list[str]]] = {
    "F1": ("fanout", ["--rooms", "1", "--clients", "200", "--senders", "1", "--window", "1000",
                      "--messages", "40000", "--duration", "8", "--check-every", "10"],
           ["--messages", "2000", "--duration", "2"]),
    "F2": ("fanout", ["--rooms", "20", "--clients", "50", "--senders", "5", "--window", "20",
                      "--messages", "20000", "--duration", "8", "--check-every", "10"],
           ["--messages", "500", "--duration", "2"]),
    "L": ("fanout", ["--rooms", "1", "--clients", "200", "--senders", "1", "--rate", "200",
                     "--duration", "10", "--check-every", "1"], ["--duration", "2"]),
    "I": ("idle", ["--connections", "2000", "--room-size", "50", "--hold", "5",
                   "--concurrency", "50", "--timeout", "30"],
          ["--connections", "300", "--hold", "1"]),
    "C": ("churn", ["--parallel", "10", "--total", "50000", "--duration", "8"],
          ["--total", "500", "--duration", "2"]),
}


@dataclass
class Server:
    """How to start one server under test, and which dialects it speaks."""

    name: str
    dialects: tuple[str, ...]
    command: Callable[[int, Path], list[str]]
    env: dict[str, str] = field(default_factory=dict)
    # Added to every chatbench command line for this server.
    chatbench_extra: list[str] = field(default_factory=list)


def roomchat_command(port: int, work: Path) -> list[str]:
    """The roomchat server: the working tree's, or the commit --roomchat-ref extracted.

    ``python -m`` from the extraction's directory imports that copy first, ahead of the
    editable install of the working tree.
    """
    if (work / "roomchat-src/chat_server").is_dir():
        return [str(REPO / ".venv/bin/python"), "-m", "chat_server", "--host", "127.0.0.1",
                "--port", str(port)]
    return [str(REPO / ".venv/bin/chat-server"), "--host", "127.0.0.1", "--port", str(port)]


def copy_src(src: Path, work: Path) -> str:
    """Put a copy of src/chat_server under work/roomchat-src (to measure a patch)."""
    shutil.copytree(src / "chat_server", work / "roomchat-src/chat_server",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return f"copy of {src.resolve()}/chat_server"


def extract_ref(ref: str, work: Path) -> str:
    """Put chat_server/ as of ``ref`` under work/roomchat-src; return the commit hash."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", ref], capture_output=True,
                            text=True, check=True).stdout.strip()
    dest = work / "roomchat-src"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "chat_server"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return commit


def ngircd_command(port: int, work: Path) -> list[str]:
    """ngIRCd in the foreground with the repository's benchmark config on ``port``."""
    conf = (REPO / "scripts/ngircd/bench.conf").read_text()
    conf = conf.replace("Ports = 16667", f"Ports = {port}")
    path = work / "ngircd.conf"
    path.write_text(conf)
    return [shutil.which("ngircd") or "/usr/sbin/ngircd", "-n", "-f", str(path)]


def inspircd_command(port: int, work: Path) -> list[str]:
    """InspIRCd in the foreground with scripts/inspircd/bench.conf.in filled in.

    Debian's build refuses to run as root unless told ``--runasroot``.
    """
    conf = (REPO / "scripts/inspircd/bench.conf.in").read_text()
    path = work / f"inspircd-{port}.conf"
    path.write_text(conf.replace("@PORT@", str(port)).replace("@WORK@", str(work)))
    (work / "inspircd.motd").write_text("benchmark\n")
    cmd = [shutil.which("inspircd") or "/usr/sbin/inspircd", "--nofork", f"--config={path}"]
    return cmd + (["--runasroot"] if os.geteuid() == 0 else [])


def threaded_command(port: int, _work: Path) -> list[str]:
    """The thread-per-connection baseline, run by the project's Python."""
    return [str(REPO / ".venv/bin/python"), str(REPO / "scripts/baselines/threaded_chat.py"),
            "--port", str(port), "--lifetime", "900"]


# Like the peers' benchmark configs: flood control and the per-address limit off, room
# for 100,000 clients and their descriptors. The send-queue bound stays at its default.
ROOMCHAT_BENCH_ENV = {"ROOMCHAT_LIMITS_FLOOD_RATE": "0",
                      "ROOMCHAT_LIMITS_MAX_CONNECTIONS_PER_IP": "1000000",
                      "ROOMCHAT_LIMITS_MAX_CONNECTIONS": "100000"}
SERVERS = {
    # The default: history kept in SQLite (a fresh data directory for every run).
    "roomchat": Server("roomchat", ("irc", "plain"), roomchat_command,
                       {**ROOMCHAT_BENCH_ENV, "ROOMCHAT_STORE_BACKEND": "sqlite"}),
    # The same server keeping no history, to measure what the store costs.
    "roomchat-nostore": Server("roomchat-nostore", ("irc",), roomchat_command,
                               {**ROOMCHAT_BENCH_ENV, "ROOMCHAT_STORE_BACKEND": "none"}),
    # ngIRCd's listen backlog is fixed at 10: more handshakes at once only drop SYNs.
    "ngircd": Server("ngircd", ("irc",), ngircd_command, chatbench_extra=["--conc", "10"]),
    "inspircd": Server("inspircd", ("irc",), inspircd_command),
    "threaded": Server("threaded", ("irc",), threaded_command),
}
DEFAULT_SERVERS = "roomchat,roomchat-nostore,ngircd,inspircd"


CHATBENCH_SRC = REPO / "scripts/chatbench/chatbench.c"


def build_chatbench(out: Path) -> Path:
    """Compile chatbench.c into ``out`` with $CC (gcc by default) unless it is up to date."""
    if not out.exists() or out.stat().st_mtime < CHATBENCH_SRC.stat().st_mtime:
        out.parent.mkdir(parents=True, exist_ok=True)
        cc = os.environ.get("CC", "gcc")
        subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-o", str(out), str(CHATBENCH_SRC)],
                       check=True)
    return out


def chatbench_binary() -> Path:
    """``$CHATBENCH`` if set, else chatbench built into .bench/ (which git ignores)."""
    given = os.environ.get("CHATBENCH")
    if given:
        return Path(given)
    build = REPO / ".bench"
    build.mkdir(exist_ok=True)
    (build / ".gitignore").write_text("*\n")
    return build_chatbench(build / "chatbench")


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until the server accepts connections, it exits, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout} s")


def _child_setup(cpu: int | None) -> Callable[[], None]:
    def setup() -> None:
        # Die with bench-compare, whatever kills it, so no server outlives a run.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    return setup


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after five seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_for_quiet(limit_pct: float, patience: float) -> float:
    """Wait (at most ``patience`` s) until other work uses < ``limit_pct``% of one core.

    On a shared machine a test suite running beside the benchmark takes CPU from the
    pinned server or generator; starting in a quiet moment makes runs comparable.
    Returns the last measured load.
    """
    deadline = time.monotonic() + patience
    while True:
        before = machine_busy_seconds()
        time.sleep(0.5)
        load = 100 * (machine_busy_seconds() - before) / 0.5
        if load < limit_pct or time.monotonic() >= deadline:
            return round(load, 1)


def chatbench_result(name: str, j: dict[str, Any]) -> dict[str, Any]:
    """chatbench's JSON line in the fields the table reads (those of scripts/bench)."""
    srv, gen = j["server"], j["gen"]
    out: dict[str, Any] = {
        "generator": "chatbench",
        "scenario": j["scenario"],
        "aborted": j["aborted"] or j["stalled"],
        "server_cpu_pct": round(100 * srv["cpu_util"], 1) if srv["cpu_util"] >= 0 else None,
        "generator_cpu_pct": round(100 * gen["cpu_util"], 1),
        "other_cpu_pct": round(100 * j["machine"]["other_cores"], 1),
        "server_hwm_kb": srv["hwm_kb"],
        "chatbench": j,
    }
    if j["scenario"] == "fanout":
        lat = j["lat_us"]
        out.update(
            deliveries_per_s=round(j["delivered_per_s"]), deliveries=j["delivered"],
            expected=j["expected"], loss=j["lost"] + j["gaps"], duplicates=j["dups"],
            latency_ms={k: round(lat[k] / 1000, 3) for k in ("p50", "p90", "p99", "max")},
            sent_per_s=round(j["sent_per_s"]))
    elif j["scenario"] == "idle":
        per = srv["rss_bytes_per_conn"]
        # The work is the set-up; the hold that follows is idle by design.
        setup = max(1e-9, j["setup_s"])
        if srv["setup_cpu_s"] >= 0:
            out["server_cpu_pct"] = round(100 * srv["setup_cpu_s"] / setup, 1)
        out["generator_cpu_pct"] = round(100 * gen["setup_cpu_s"] / setup, 1)
        out.update(
            connections=j["conns"], established=j["established"], failed=j["failed"],
            dropped_while_held=j["disconnects"], setup_s=round(j["setup_s"], 3),
            connections_per_s=round(j["established"] / max(1e-9, j["setup_s"])),
            server_rss_per_conn_bytes=round(per) if per >= 0 else None)
    else:
        out.update(completed=j["churn_completed"], failed=j["churn_failed"] + j["failed"],
                   connections_per_s=round(j["conns_per_s"]),
                   messages_seen=j["delivered"])
    if name.startswith("I") and out.get("failed"):
        out["note"] = f"{out['failed']} connections not made"
    return out


def run_one(server: Server, dialect: str, name: str, quick: bool,
            cpus: tuple[int, int] | None, work: Path, patience: float) -> dict[str, Any]:
    """Start a fresh server, run one scenario against it, stop it; return the result.

    IRC runs use chatbench; plain runs use scripts/bench (see PLAIN).
    """
    port = free_port()
    log = open(work / f"{server.name}-{name}-{dialect}.log", "wb")  # noqa: SIM115
    # Every run starts with an empty store of its own, never the user's history.
    data_dir = tempfile.mkdtemp(prefix=f"{server.name}-data-", dir=work)
    proc = subprocess.Popen(
        server.command(port, work), stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **server.env, "ROOMCHAT_STORE_DATA_DIR": data_dir},
        cwd=work / "roomchat-src" if (work / "roomchat-src").is_dir() else work,
        preexec_fn=_child_setup(cpus[0] if cpus else None),
    )
    failure = {"label": server.name, "dialect": dialect, "scenario_name": name}
    try:
        wait_for_port(port, proc, 15.0)
        load_before = wait_for_quiet(25.0, patience)
        if dialect == "plain":
            scenario, args, quick_args = PLAIN[name]
            cmd = [str(REPO / "scripts/bench"), scenario, *args,
                   *(quick_args if quick else []), "--port", str(port),
                   "--server-pid", str(proc.pid), "--dialect", dialect,
                   "--label", server.name]
            if cpus:
                cmd += ["--pin", str(cpus[1])]
            gen_cpu = None
        else:
            cmd = [str(chatbench_binary()), *SCENARIOS[name][1],
                   *(QUICK[name] if quick else []), *CHATBENCH_LIMITS,
                   *server.chatbench_extra, "--proto", "irc", "--port", str(port),
                   "--server-pid", str(proc.pid), "--tag", server.name]
            gen_cpu = cpus[1] if cpus else None
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False,
                             preexec_fn=_child_setup(gen_cpu))
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            err = (out.stderr.strip().splitlines() or ["no output"])[-1]
            return {**failure, "error": err}
        print("  " + "\n  ".join(ln for ln in out.stdout.splitlines()[:-1]
                                 if not ln.startswith("{")), flush=True)
        raw: dict[str, Any] = json.loads(lines[-1])
        if dialect == "plain":
            if out.returncode != 0:
                return {**failure, "error": f"scripts/bench exited with {out.returncode}"}
            result = {"generator": "scripts/bench", **raw}
        else:
            result = chatbench_result(name, raw)
            if result["aborted"]:
                result["error"] = "aborted: " + (raw["abort_reason"] or "stalled")
        result["machine_load_before_pct"] = load_before
        return result
    except (RuntimeError, TimeoutError, subprocess.TimeoutExpired) as exc:
        return {**failure, "error": str(exc)}
    finally:
        stop(proc)
        log.close()


QUIET_PCT = 10.0


def better_first(name: str, r: dict[str, Any]) -> float:
    """A sort key: the better a run by its scenario's headline figure, the smaller."""
    if name.startswith("F"):
        return -float(r["deliveries_per_s"])
    if name.startswith("L"):
        return float(r["latency_ms"]["p99"])
    if name.startswith("I"):
        return float(r["setup_s"])
    return -float(r["connections_per_s"])


def pick(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The best of the quiet runs (other processes under QUIET_PCT% of a core), or else
    the least disturbed run; the others are noted in it."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[-1]
    quiet = [r for r in good if r["other_cpu_pct"] <= QUIET_PCT]
    if quiet:
        best = min(quiet, key=lambda r: better_first(name, r))
    else:
        best = min(good, key=lambda r: r["other_cpu_pct"])
    best["other_runs"] = [
        {"other_cpu_pct": r.get("other_cpu_pct"), "headline": headline(name, r)}
        for r in runs if r is not best
    ]
    return best


def headline(name: str, r: dict[str, Any] | None) -> str:
    """The one figure per scenario that the table shows."""
    if r is None:
        return "-"
    if "error" in r:
        return "error"
    if name.startswith("F"):
        dup = f" dup {r['duplicates']}" if r.get("duplicates") else ""
        return f"{r['deliveries_per_s']:,}/s loss {r['loss']}{dup}"
    if name.startswith("L"):
        return f"p99 {r['latency_ms']['p99']:.2f} ms loss {r['loss']}"
    if name.startswith("I"):
        per = r["server_rss_per_conn_bytes"]
        failed = f", {r['failed']} failed" if r["failed"] else ""
        mem = f"{per:,} B/conn" if per is not None else "RSS n/a"
        return (f"{r['established']:,} in {r['setup_s']:.1f} s "
                f"({r['connections_per_s']:,}/s), {mem}{failed}")
    return f"{r['connections_per_s']:,}/s fail {r['failed']}"


def cpu_note(r: dict[str, Any] | None) -> str:
    """Server / generator / other processes' CPU, so a generator-bound run shows."""
    if not r or "error" in r:
        return ""
    server = "?" if r["server_cpu_pct"] is None else f"{r['server_cpu_pct']:.0f}"
    return f"{server}/{r['generator_cpu_pct']:.0f}/{r['other_cpu_pct']:.0f}"


Results = dict[tuple[str, str, str], dict[str, Any]]


def _get(results: Results, server: str, name: str, dialect: str = "irc"
         ) -> dict[str, Any] | None:
    r = results.get((server, name, dialect))
    return None if r is None or "error" in r else r


# Idle memory target: 2.5 KB of server RSS per registered connection.
IDLE_BYTES_TARGET = 2500
# Netcat users arriving in one room: connections per second.
PLAIN_ARRIVALS_TARGET = 1000


def targets(results: Results) -> list[tuple[str, str, str]]:
    """Each of the issue's targets, for roomchat with the store on: (target, measured, met?).
    """
    out: list[tuple[str, str, str]] = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    for name, peer, factor in (("F1", "ngircd", 2.5), ("F2", "inspircd", 1.2)):
        rc, other = _get(results, "roomchat", name), _get(results, peer, name)
        if rc and other:
            r = rc["deliveries_per_s"] / max(1, other["deliveries_per_s"])
            ok = r >= factor and rc["loss"] == 0 and rc["duplicates"] == 0
            out.append((f"{name} >= {factor:g}x {peer}, no loss",
                        f"{r:.2f}x ({rc['deliveries_per_s']:,} vs "
                        f"{other['deliveries_per_s']:,}/s), loss {rc['loss']}", verdict(ok)))
    rc, other = _get(results, "roomchat", "L"), _get(results, "inspircd", "L")
    if rc and other:
        p99, o99 = rc["latency_ms"]["p99"], other["latency_ms"]["p99"]
        out.append(("L p99 <= inspircd's, no loss", f"{p99:.2f} ms vs {o99:.2f} ms, loss "
                    f"{rc['loss']}", verdict(p99 <= o99 and rc["loss"] == 0)))
    rc = _get(results, "roomchat", "I")
    if rc and rc["server_rss_per_conn_bytes"] is not None:
        per = rc["server_rss_per_conn_bytes"]
        out.append((f"I <= {IDLE_BYTES_TARGET:,} B of RSS per connection, none failed",
                    f"{per:,} B, {rc['failed']} failed",
                    verdict(per <= IDLE_BYTES_TARGET and rc["failed"] == 0)))
    rc, other = _get(results, "roomchat", "C"), _get(results, "ngircd", "C")
    if rc and other:
        r = rc["connections_per_s"] / max(1, other["connections_per_s"])
        out.append(("C >= 0.5x ngircd, none failed", f"{r:.2f}x ({rc['connections_per_s']:,}"
                    f" vs {other['connections_per_s']:,}/s)",
                    verdict(r >= 0.5 and rc["failed"] == 0)))
    rc = _get(results, "roomchat", "I", "plain")
    if rc:
        out.append((f"plain arrivals >= {PLAIN_ARRIVALS_TARGET:,} connections/s",
                    f"{rc['established']:,} in {rc['setup_s']:.1f} s = "
                    f"{rc['connections_per_s']:,}/s",
                    verdict(rc["connections_per_s"] >= PLAIN_ARRIVALS_TARGET
                            and rc["failed"] == 0)))
    for name in ("F1", "F2"):
        on, off = _get(results, "roomchat", name), _get(results, "roomchat-nostore", name)
        if on and off:
            out.append((f"{name} with the store / without (for the record)",
                        f"{on['deliveries_per_s'] / max(1, off['deliveries_per_s']):.2f}x",
                        "info"))
    return out


def ratio(results: Results, name: str, peer: str) -> str:
    """roomchat's figure over ``peer``'s, in the direction where more is better."""
    rc, other = _get(results, "roomchat", name), _get(results, peer, name)
    if not rc or not other:
        return "-"
    if name.startswith("F"):
        return f"{rc['deliveries_per_s'] / max(1, other['deliveries_per_s']):.2f}x"
    if name.startswith("L"):
        return (f"p99 {other['latency_ms']['p99'] / max(1e-9, rc['latency_ms']['p99']):.2f}x"
                " lower")
    if name.startswith("C"):
        return f"{rc['connections_per_s'] / max(1, other['connections_per_s']):.2f}x"
    a, b = rc["server_rss_per_conn_bytes"], other["server_rss_per_conn_bytes"]
    return f"RSS {a / max(1, b):.2f}x" if a is not None and b else "-"


def table(results: Results, servers: list[str], names: list[str],
          dialects: set[str]) -> str:
    """The results as a Markdown table: headline figure and server/generator CPU %."""
    cols = [(s, d) for s in servers for d in SERVERS[s].dialects if d in dialects]
    peers = [p for p in ("ngircd", "inspircd") if p in servers and "roomchat" in servers]
    head = ("| scenario | " + " | ".join(f"{s} {d}" for s, d in cols)
            + "".join(f" | roomchat / {p}" for p in peers) + " |")
    rows = [head, "|" + "---|" * (len(cols) + len(peers) + 1)]
    for name in names:
        cells = []
        for s, d in cols:
            r = results.get((s, name, d))
            note = cpu_note(r)
            cells.append(headline(name, r) + (f" (cpu {note}%)" if note else ""))
        rows.append(f"| {name} | " + " | ".join(cells)
                    + "".join(f" | {ratio(results, name, p)}" for p in peers) + " |")
    return "\n".join(rows)


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    return (out.stdout or out.stderr).strip().split("\n")[0]


def machine() -> dict[str, Any]:
    """What the run ran on, for the record."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "python": platform.python_version(),
            "ngircd": _version([shutil.which("ngircd") or "/usr/sbin/ngircd", "--version"]),
            "inspircd": _version([shutil.which("inspircd") or "/usr/sbin/inspircd",
                                  "--version"]),
            "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)}


def main(argv: list[str] | None = None) -> int:
    """Run every selected scenario against every selected server; print the table."""
    parser = argparse.ArgumentParser(prog="scripts/bench-compare", description=__doc__)
    parser.add_argument("--servers", default=DEFAULT_SERVERS,
                        help=f"some of {','.join(SERVERS)}")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"some of {','.join(SCENARIOS)}")
    parser.add_argument("--dialects", default="irc,plain")
    parser.add_argument("--quick", action="store_true", help="small, fast smoke run")
    parser.add_argument("--json", type=Path, help="also save all results here")
    parser.add_argument(
        "--roomchat-ref", help="benchmark chat_server as of this commit, not the work tree")
    parser.add_argument(
        "--roomchat-src", type=Path, help="benchmark DIR/chat_server (a patched copy)")
    parser.add_argument(
        "--repeat", type=int, default=2,
        help="runs per cell; the best quiet one (or the least disturbed) is kept",
    )
    parser.add_argument("--quiet-wait", type=float, default=10.0,
                        help="wait at most this long (s) for a quiet machine before a run")
    args = parser.parse_args(argv)
    servers = [s for s in args.servers.split(",") if s]
    names = [n for n in args.scenarios.split(",") if n]
    unknown = [s for s in servers if s not in SERVERS] + [n for n in names
                                                           if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown server or scenario: {', '.join(unknown)}")
    dialects = set(args.dialects.split(","))
    cpus = (0, 1) if (os.cpu_count() or 1) >= 2 else None
    info = machine()
    info["chatbench"] = str(chatbench_binary())
    print(f"machine: {info}", flush=True)
    print("pinning: " + ("server on CPU 0, generator on CPU 1" if cpus else "none (1 CPU)"))
    results: Results = {}
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        if args.roomchat_src:
            info["roomchat_commit"] = copy_src(args.roomchat_src, Path(tmp))
        elif args.roomchat_ref:
            info["roomchat_commit"] = extract_ref(args.roomchat_ref, Path(tmp))
        else:
            info["roomchat_commit"] = "work tree at " + subprocess.run(
                ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                check=False).stdout.strip()
        print(f"roomchat: {info['roomchat_commit']}", flush=True)
        for name in names:
            for s in servers:
                for d in SERVERS[s].dialects:
                    if d not in dialects:
                        continue
                    print(f"== {name} ({SCENARIOS[name][0]}) / {s} / {d}", flush=True)
                    runs = []
                    for _ in range(max(1, args.repeat)):
                        r = run_one(SERVERS[s], d, name, args.quick, cpus, Path(tmp),
                                    args.quiet_wait)
                        if "error" in r:
                            print(f"  error: {r['error']}", flush=True)
                        runs.append(r)
                    results[(s, name, d)] = pick(name, runs)
    print()
    print("IRC columns measured by chatbench, plain by scripts/bench; headline figure per"
          " scenario; (cpu S/G/O%): server, generator and other processes' CPU in % of one"
          " core")
    print(table(results, servers, names, dialects))
    print()
    if args.quick:
        print("quick run: smaller scenarios than the targets name, so targets are not judged")
    else:
        for target, measured, verdict in targets(results):
            print(f"{verdict:7} {target}: {measured}")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "quick": args.quick, "results": [
            {"server": s, "scenario_name": n, "dialect": d, **r}
            for (s, n, d), r in results.items()]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
