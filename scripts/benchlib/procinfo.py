"""CPU time and memory of processes, read from /proc and getrusage.

Both the server's and the generator's CPU are reported so that a run where the
generator, not the server, was the bottleneck shows as such.
"""

from __future__ import annotations

import os
import resource

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process (its threads included), from /proc."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    # The command name may contain spaces; fields after the closing parenthesis are fixed.
    fields = stat[stat.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def process_rss_kb(pid: int) -> int:
    """Resident set size of a process in KiB (VmRSS from /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ValueError(f"no VmRSS for pid {pid}")


def own_cpu_seconds() -> float:
    """CPU seconds used by this process and any generator children it waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit to the hard one (10,000 sockets need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else 1 << 20
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent busy since boot (everything but idle and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is inside user).
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICKS


class CpuMeter:
    """CPU use over a span: the server's (when its pid is known), the generator's, and
    everything else's on the machine, since other work on a shared machine skews a run.
    """

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self._server0 = process_cpu_seconds(server_pid) if server_pid else 0.0
        self._own0 = own_cpu_seconds()
        self._machine0 = machine_busy_seconds()

    def read(self) -> tuple[float | None, float, float]:
        """(server CPU s or None, generator CPU s, other processes' CPU s) so far."""
        server = (
            process_cpu_seconds(self.server_pid) - self._server0 if self.server_pid else None
        )
        own = own_cpu_seconds() - self._own0
        other = machine_busy_seconds() - self._machine0 - own - (server or 0.0)
        return server, own, max(0.0, other)
