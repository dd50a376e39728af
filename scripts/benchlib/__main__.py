"""Command line of the load generator: ``scripts/bench SCENARIO [options]``.

Prints a short human summary, then the results as one JSON line (the last line of
output), which scripts/bench-compare and the test suite parse.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Coroutine
from typing import Any

import uvloop

from .procinfo import raise_open_file_limit
from .scenarios import Target, churn, fanout, idle


def build_parser() -> argparse.ArgumentParser:
    """All scenarios and their options; defaults are the issue's target scenarios."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--host", default="127.0.0.1", help="server address (loopback only)")
    common.add_argument("--port", type=int, default=6667)
    common.add_argument("--server-pid", type=int, help="server pid, for its CPU and RSS")
    common.add_argument("--dialect", choices=("irc", "plain"), default="irc")
    common.add_argument("--label", default="", help="server name to put in the JSON line")
    common.add_argument("--pin", type=int, help="pin the generator to this CPU")
    common.add_argument("--timeout", type=float, default=10.0, help="per-connection set-up")
    sub = parser.add_subparsers(dest="scenario", required=True)

    f = sub.add_parser("fanout", parents=[common], help="room fan-out throughput/latency")
    f.add_argument("--rooms", type=int, default=1)
    f.add_argument("--clients", type=int, default=200, help="clients per room")
    f.add_argument("--senders", type=int, default=1, help="senders per room")
    f.add_argument("--bytes", type=int, default=100, help="message body size")
    f.add_argument("--window", type=int, default=1000, help="messages in flight per sender")
    f.add_argument("--rate", type=float, default=0.0, help="fixed total msg/s (0: window)")
    f.add_argument("--messages", type=int, default=20000, help="per sender, at most")
    f.add_argument("--duration", type=float, default=10.0, help="sending time, at most")
    f.add_argument("--drain", type=float, default=5.0, help="wait this long for stragglers")
    f.add_argument(
        "--check-every", type=int, default=1,
        help="every Kth client per room verifies each line, the others count lines",
    )
    f.add_argument(
        "--kernel-time", action="store_true",
        help="end latency at the kernel's receive timestamp (SO_TIMESTAMPNS)",
    )

    i = sub.add_parser("idle", parents=[common], help="many idle registered connections")
    i.add_argument("--connections", type=int, default=10000)
    i.add_argument("--room-size", type=int, default=50)
    i.add_argument("--hold", type=float, default=10.0, help="seconds to hold them open")
    i.add_argument("--concurrency", type=int, default=500, help="handshakes at once")

    c = sub.add_parser("churn", parents=[common], help="connect, join, say, quit; repeat")
    c.add_argument("--parallel", type=int, default=10, help="connections at a time")
    c.add_argument("--total", type=int, default=5000, help="connections, at most")
    c.add_argument("--duration", type=float, default=10.0, help="seconds, at most")
    return parser


def scenario_coroutine(args: argparse.Namespace) -> Coroutine[Any, Any, dict[str, object]]:
    """The scenario the command line asked for, ready to run."""
    target = Target(args.host, args.port, args.server_pid, args.dialect, args.timeout)
    if args.scenario == "fanout":
        return fanout(
            target, args.rooms, args.clients, args.senders, args.bytes, args.window,
            args.rate, args.messages, args.duration, args.drain, args.check_every,
            args.kernel_time,
        )
    if args.scenario == "idle":
        return idle(target, args.connections, args.room_size, args.hold, args.concurrency)
    return churn(target, args.parallel, args.total, args.duration)


def summary(result: dict[str, Any]) -> str:
    """One or two readable lines for a person watching the run."""
    who = f"{result['label'] or 'server'} ({result['dialect']})"
    cpu = (
        f"server CPU {result['server_cpu_pct']}%, generator CPU "
        f"{result['generator_cpu_pct']}%, other processes {result['other_cpu_pct']}%"
    )
    if result["scenario"] == "fanout":
        lat = result["latency_ms"]
        return (
            f"fanout {result['rooms']}x{result['clients_per_room']} "
            f"S={result['senders_per_room']} {result['mode']} on {who}: "
            f"{result['deliveries_per_s']:,} deliveries/s, {result['deliveries']:,}/"
            f"{result['expected']:,} delivered, loss {result['loss']}, "
            f"dup {result['duplicates']}\n"
            f"  latency ms p50 {lat['p50']:.3f} p90 {lat['p90']:.3f} p99 {lat['p99']:.3f} "
            f"max {lat['max']:.3f}; {cpu}"
        )
    if result["scenario"] == "idle":
        return (
            f"idle {result['established']:,}/{result['connections']:,} on {who}: "
            f"set up in {result['setup_s']} s "
            f"({result['connections_per_s']:,}/s), server RSS "
            f"{result['server_rss_per_conn_bytes']} B/connection, "
            f"{result['dropped_while_held']} dropped; {cpu}"
        )
    return (
        f"churn x{result['parallel']} on {who}: {result['connections_per_s']:,} connections/s"
        f" ({result['completed']:,} done, {result['failed']} failed); {cpu}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run one scenario; exit 1 if it could not be set up."""
    args = build_parser().parse_args(argv)
    if args.pin is not None:
        os.sched_setaffinity(0, {args.pin})
    raise_open_file_limit()
    try:
        result = uvloop.run(scenario_coroutine(args))
    except Exception as exc:
        print(f"bench {args.scenario}: {exc}", file=sys.stderr)
        return 1
    result = {
        "scenario": args.scenario,
        "label": args.label,
        "dialect": args.dialect,
        "generator_cpus": sorted(os.sched_getaffinity(0)),
        "generator_processes": 1,
        **result,
    }
    print(summary(result))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
