"""--workers N: N server processes on one port, each a node of the configured cluster.

Owns forking the workers (before any event loop or thread exists) and the parent's
supervision: it forwards SIGTERM, SIGINT and SIGHUP to every worker and exits when all
of them have, with the first failing worker's status. Knows nothing of chat.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("chat_server.workers")

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def worker_count(text: str) -> int:
    """"auto" (one per core) or a positive number; ValueError otherwise."""
    if text == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    count = int(text)
    if count < 1:
        raise ValueError(text)
    return count


def fork_workers(count: int) -> tuple[int, list[int]]:
    """In each worker: (its index, []); in the parent: (-1, the workers' pids)."""
    pids: list[int] = []
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            for sig in FORWARDED:
                signal.signal(sig, signal.SIG_DFL if sig != signal.SIGHUP else signal.SIG_IGN)
            return index, []
        pids.append(pid)
    return -1, pids


def supervise(pids: list[int], ready: Callable[[], None]) -> int:
    """Forward signals to the workers until every one has exited; the exit status.

    `ready` (the pidfile) runs once the signals are forwarded, so that whoever reads
    the pidfile and signals at once reaches every worker.
    """

    def forward(signum: int, frame: FrameType | None) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    ready()
    status = 0
    left = set(pids)
    while left:
        try:
            pid, raw = os.wait()
        except ChildProcessError:
            break
        if pid not in left:
            continue
        left.discard(pid)
        code = os.waitstatus_to_exitcode(raw)
        if code:
            log.warning("worker %d exited with status %d", pid, code)
            if not status:
                status = code if code > 0 else 1
    return status
