"""Daemon mode: the pidfile, and detaching from the terminal with python-daemon.

Owns the checks that must fail on the terminal, before detaching (a pidfile naming a
live process, a pidfile that could not be written), and the pidfile's life: written
once the server listens, removed on exit. Must not import the hub, sessions or
transport: the caller binds its sockets and hands them over to be kept open.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterable
from typing import IO, Any

import daemon


class StartError(Exception):
    """A reason not to start, said on the terminal before detaching."""


class Pidfile:
    def __init__(self, path: str) -> None:
        # Absolute: the daemon changes its working directory to / before writing it.
        self.path = os.path.abspath(path)

    def running_pid(self) -> int | None:
        """The pid in the file when that process is alive; None when absent or stale."""
        try:
            with open(self.path, encoding="ascii", errors="replace") as fh:
                pid = int(fh.read().strip())
        except (OSError, ValueError):
            return None
        if pid <= 0:
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            # Alive, but someone else's: still a reason not to take over its pidfile.
            return pid
        return pid

    def check(self) -> None:
        """Refuse a pidfile owned by a live process, or one that could not be written."""
        pid = self.running_pid()
        if pid is not None:
            raise StartError(f"already running as pid {pid} (pidfile {self.path})")
        directory = os.path.dirname(self.path)
        try:
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".chat-server-"):
                pass
        except OSError as exc:
            raise StartError(
                f"cannot write pidfile {self.path}: {exc.strerror or exc}"
            ) from None

    def write(self) -> None:
        """Write our pid atomically: a reader sees no file or a whole pid, never half."""
        temporary = f"{self.path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="ascii") as fh:
            fh.write(f"{os.getpid()}\n")
        os.replace(temporary, self.path)

    def remove(self) -> None:
        """Remove the file if it still names us (a successor may have taken it over)."""
        try:
            with open(self.path, encoding="ascii", errors="replace") as fh:
                if fh.read().strip() != str(os.getpid()):
                    return
        except OSError:
            return
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


def detach(keep: Iterable[Any], stderr: IO[str] | None) -> None:
    """Become a daemon: double fork, new session, working directory /, umask, stdio.

    Returns in the grandchild; the original process exits with status 0. Every file
    descriptor is closed except those of `keep` (the bound sockets, the log file);
    standard input and output go to /dev/null and standard error to `stderr`, so that
    a crash the logging cannot report still lands in the log file.
    """
    context = daemon.DaemonContext(
        working_directory="/",
        # Log lines carry client addresses: not for every local user to read.
        umask=0o027,
        detach_process=True,
        files_preserve=list(keep),
        stderr=stderr,
        # python-daemon's default map also turns SIGTERM into SystemExit; the server
        # installs its own graceful handler as soon as its loop runs.
        signal_map={signal.SIGTSTP: None, signal.SIGTTIN: None, signal.SIGTTOU: None},
    )
    context.open()
