"""The three scenarios: fanout, idle and churn. Each returns a flat dict of results.

Every wait is bounded: set-up, sending and draining all have time limits, and whatever
did not arrive by then is reported as loss rather than waited for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .client import Client, SetupError, Sink, body, clock_ns, connect
from .procinfo import CpuMeter, process_rss_kb


@dataclass(frozen=True, slots=True)
class Target:
    """Where the server listens, its pid when known, and the dialect to speak."""

    host: str
    port: int
    server_pid: int | None
    dialect: str
    timeout: float


def percentile(sorted_values: list[int], fraction: float) -> int:
    """Nearest-rank percentile of an already sorted list (0 when it is empty)."""
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def base36(n: int) -> str:
    """Short unique nick suffixes: ngIRCd and friends cap nickname length."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


async def connect_many(
    target: Target,
    specs: Sequence[tuple[str, str | None]],
    concurrency: int,
    tolerate: bool = False,
) -> tuple[list[Client], list[BaseException]]:
    """Connect, register and join clients, at most ``concurrency`` handshakes at a time.

    Any failure aborts the set-up unless ``tolerate``: then the failures are returned
    beside the clients that made it, for scenarios where slow set-up is the finding.
    """
    gate = asyncio.Semaphore(concurrency)

    async def one(nick: str, room: str | None) -> Client:
        async with gate:
            return await connect(
                target.host, target.port, nick, target.dialect, room, target.timeout
            )

    results = await asyncio.gather(*(one(n, r) for n, r in specs), return_exceptions=True)
    clients = [c for c in results if isinstance(c, Client)]
    errors = [e for e in results if isinstance(e, BaseException)]
    if errors and not tolerate:
        await close_all(clients, 2.0)
        raise SetupError(f"{len(errors)} of {len(specs)} clients failed: {errors[0]!r}")
    return clients, errors


async def close_all(clients: list[Client], timeout: float) -> None:
    """Close every connection and wait, bounded, until the loop has let them go."""
    for c in clients:
        c.release()
        if c.transport is not None:
            c.transport.close()
    pending = [c.closed for c in clients if not c.closed.done()]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


class Sender:
    """Sends numbered, timestamped messages from one client into its room."""

    def __init__(self, client: Client, sender_id: int, size: int, limit: int) -> None:
        self.client = client
        self.id = sender_id
        self.id_bytes = str(sender_id).encode()
        self.size = size
        self.limit = limit
        self.sent = 0
        self.stopped = False
        self.window = 0
        self.ack: Client | None = None
        self.clock: Callable[[], int] = clock_ns

    def send_batch(self, count: int) -> None:
        """Write ``count`` messages in one write, all stamped with the same send time."""
        count = min(count, self.limit - self.sent)
        if count <= 0 or self.stopped:
            return
        now = self.clock()
        say = self.client.say_line
        first = self.sent
        self.client.send(
            b"".join(say(body(self.id, s, now, self.size)) for s in range(first, first + count))
        )
        self.sent += count

    def pump(self) -> None:
        """Windowed mode: top the window up to ``window`` unacknowledged messages."""
        assert self.ack is not None
        acked = self.ack.last.get(self.id_bytes, -1) + 1
        self.send_batch(self.window - (self.sent - acked))


async def fanout(
    target: Target,
    rooms: int,
    clients_per_room: int,
    senders_per_room: int,
    size: int,
    window: int,
    rate: float,
    messages: int,
    duration: float,
    drain: float,
    check_every: int,
    kernel_time: bool = False,
) -> dict[str, object]:
    """R rooms x C clients, S senders per room; windowed (``window``) or fixed ``rate``.

    Windowed: each sender keeps ``window`` messages in flight, counted against one
    designated receiver in its room that does not send. Fixed rate: ``rate`` messages
    per second in total, spread evenly over all senders. Either way a sender stops after
    ``messages`` messages or ``duration`` seconds, whichever comes first.
    Every ``check_every``-th member of a room (and the window's receiver) verifies each
    line; the others count lines (see client.py for why). With ``kernel_time`` latency
    ends when the bytes reach the receiving socket, not when the generator reads them.
    """
    if senders_per_room >= clients_per_room:
        raise ValueError("need at least one receiver that does not send in every room")
    specs = [
        (f"r{r}u{base36(i)}", f"#r{r}") for r in range(rooms) for i in range(clients_per_room)
    ]
    t0 = time.perf_counter()
    clients, _ = await connect_many(target, specs, 50)
    setup_s = time.perf_counter() - t0
    loop = asyncio.get_running_loop()
    sink = Sink()
    senders: list[Sender] = []
    room_of: list[list[Sender]] = []
    for r in range(rooms):
        members = clients[r * clients_per_room : (r + 1) * clients_per_room]
        ack = members[-1]
        for i, member in enumerate(members):
            member.verify = i % check_every == 0 or member is ack
        for i in range(senders_per_room):
            sender = Sender(members[i], len(senders), size, messages)
            if target.dialect == "irc":
                members[i].own_id = sender.id_bytes
            sender.window = window
            sender.ack = ack
            senders.append(sender)
        room_senders = senders[-senders_per_room:]
        room_of.extend([room_senders] * clients_per_room)
        if not rate:
            ack.on_progress = _pump_all(room_senders)
    for c in clients:
        if kernel_time:
            c.measure_kernel_time(sink)
        else:
            c.measure(sink)
    if kernel_time:
        for s in senders:
            s.clock = time.time_ns
    # Let stray set-up traffic (NAMES, join notices) settle before the clock starts.
    await asyncio.sleep(0.2)
    meter = CpuMeter(target.server_pid)
    start_ns = time.time_ns() if kernel_time else clock_ns()
    deadline = loop.time() + duration
    if rate:
        await _send_at_rate(senders, rate, deadline)
    else:
        for s in senders:
            s.pump()
        while loop.time() < deadline and any(s.sent < s.limit for s in senders):
            await asyncio.sleep(0.01)
    for s in senders:
        s.stopped = True
    sent_end = time.perf_counter()
    echo = 0 if target.dialect == "irc" else 1
    sent_total = sum(s.sent for s in senders)
    expected = sent_total * (clients_per_room - 1 + echo)
    drain_deadline = loop.time() + drain
    while loop.time() < drain_deadline and sum(c.unique for c in clients) < expected:
        await asyncio.sleep(0.005)
    drained_s = time.perf_counter() - sent_end
    server_cpu, gen_cpu, other_cpu = meter.read()
    unique = duplicates = 0
    for client, room_senders in zip(clients, room_of, strict=True):
        owed = sum(s.sent for s in room_senders if echo or s.client is not client)
        got = min(client.unique, owed)
        unique += got
        duplicates += client.duplicates + client.unique - got
    end_ns = sink.last_delivery_ns or (time.time_ns() if kernel_time else clock_ns())
    elapsed = max(1e-9, (end_ns - start_ns) / 1e9)
    await close_all(clients, 5.0)
    lat = sorted(sink.latencies_ns)
    return {
        "rooms": rooms,
        "clients_per_room": clients_per_room,
        "senders_per_room": senders_per_room,
        "bytes": size,
        "mode": "rate" if rate else "window",
        "latency_clock": "kernel receive time" if kernel_time else "generator read time",
        "window": 0 if rate else window,
        "rate": rate,
        "setup_s": round(setup_s, 3),
        "sent": sent_total,
        "expected": expected,
        "deliveries": unique,
        "loss": max(0, expected - unique),
        "duplicates": duplicates,
        "verifying_clients": sum(1 for c in clients if c.verify),
        "unexpected": sum(c.unexpected for c in clients),
        "elapsed_s": round(elapsed, 3),
        "drain_s": round(drained_s, 3),
        "deliveries_per_s": round(unique / elapsed),
        "messages_per_s": round(sent_total / elapsed),
        # Time the generator spent per message sent (each fans out to a room): a floor
        # under the latencies it reports, since every receiver of a burst waits its turn.
        "generator_ms_per_message": round(1000 * gen_cpu / max(1, sent_total), 3),
        "latency_ms": {
            "p50": percentile(lat, 0.50) / 1e6,
            "p90": percentile(lat, 0.90) / 1e6,
            "p99": percentile(lat, 0.99) / 1e6,
            "max": (lat[-1] if lat else 0) / 1e6,
        },
        **_cpu_fields(server_cpu, gen_cpu, other_cpu, elapsed),
    }


def _pump_all(senders: list[Sender]) -> Callable[[], None]:
    """A callback for a room's designated receiver: each delivery may open windows."""

    def pump() -> None:
        for s in senders:
            s.pump()

    return pump


async def _send_at_rate(senders: list[Sender], rate: float, deadline: float) -> None:
    """Send one message at a time, evenly spaced; catch up in one write when late."""
    loop = asyncio.get_running_loop()
    interval = len(senders) / rate
    start = loop.time()
    tick = min(interval, 0.001)
    index = 0
    while loop.time() < deadline and any(s.sent < s.limit for s in senders):
        due = int((loop.time() - start) / interval * len(senders)) + 1
        while index < due:
            senders[index % len(senders)].send_batch(1)
            index += 1
        next_due = start + due * interval / len(senders)
        await asyncio.sleep(max(0.0, min(tick, next_due - loop.time())))


def _cpu_fields(
    server_cpu: float | None, gen_cpu: float, other_cpu: float, elapsed: float
) -> dict[str, object]:
    return {
        "other_cpu_pct": round(100 * other_cpu / elapsed, 1),
        "server_cpu_s": None if server_cpu is None else round(server_cpu, 3),
        "server_cpu_pct": None if server_cpu is None else round(100 * server_cpu / elapsed, 1),
        "generator_cpu_s": round(gen_cpu, 3),
        "generator_cpu_pct": round(100 * gen_cpu / elapsed, 1),
    }


async def idle(
    target: Target, connections: int, room_size: int, hold: float, concurrency: int
) -> dict[str, object]:
    """N registered connections in rooms of ``room_size``, held for ``hold`` seconds."""
    specs = [(f"i{base36(i)}", f"#idle{i // room_size}") for i in range(connections)]
    rss_before = process_rss_kb(target.server_pid) if target.server_pid else None
    meter = CpuMeter(target.server_pid)
    t0 = time.perf_counter()
    clients, errors = await connect_many(target, specs, concurrency, tolerate=True)
    setup_s = time.perf_counter() - t0
    server_cpu, gen_cpu, other_cpu = meter.read()
    rss_setup = process_rss_kb(target.server_pid) if target.server_pid else None
    hold_deadline = time.perf_counter() + hold
    lost = 0
    while time.perf_counter() < hold_deadline:
        await asyncio.sleep(min(0.5, max(0.0, hold_deadline - time.perf_counter())))
        lost = sum(1 for c in clients if c.closed.done())
    rss_held = process_rss_kb(target.server_pid) if target.server_pid else None
    await close_all(clients, 10.0)
    per_conn = None
    if rss_before is not None and rss_held is not None and clients:
        per_conn = round((rss_held - rss_before) * 1024 / len(clients))
    return {
        "connections": connections,
        "established": len(clients),
        "failed": len(errors),
        "first_failure": repr(errors[0]) if errors else None,
        "room_size": room_size,
        "hold_s": hold,
        "setup_s": round(setup_s, 3),
        "connections_per_s": round(len(clients) / setup_s),
        "dropped_while_held": lost,
        "server_rss_before_kb": rss_before,
        "server_rss_after_setup_kb": rss_setup,
        "server_rss_held_kb": rss_held,
        "server_rss_per_conn_bytes": per_conn,
        **_cpu_fields(server_cpu, gen_cpu, other_cpu, setup_s),
    }


async def churn(
    target: Target, parallel: int, total: int, duration: float
) -> dict[str, object]:
    """``parallel`` workers each loop: connect, register, join, say one line, quit."""
    loop = asyncio.get_running_loop()
    counter = iter(range(total))
    done = 0
    failures: list[str] = []
    deadline = loop.time() + duration

    async def worker() -> None:
        nonlocal done
        for n in counter:
            if loop.time() >= deadline:
                return
            client: Client | None = None
            try:
                client = await connect(
                    target.host, target.port, f"c{base36(n)}", target.dialect, "#churn",
                    target.timeout,
                )
                client.send(client.say_line(body(0, n, clock_ns(), 32)) + client.quit_line())
                await asyncio.wait_for(asyncio.shield(client.closed), target.timeout)
                done += 1
            except (OSError, SetupError, TimeoutError) as exc:
                failures.append(repr(exc))
                if client is not None and client.transport is not None:
                    client.transport.abort()

    meter = CpuMeter(target.server_pid)
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(parallel)))
    elapsed = time.perf_counter() - t0
    server_cpu, gen_cpu, other_cpu = meter.read()
    return {
        "parallel": parallel,
        "completed": done,
        "failed": len(failures),
        "first_failure": failures[0] if failures else None,
        "elapsed_s": round(elapsed, 3),
        "connections_per_s": round(done / elapsed),
        **_cpu_fields(server_cpu, gen_cpu, other_cpu, elapsed),
    }
