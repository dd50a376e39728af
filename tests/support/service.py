"""The real chat-server as a service: run from the command line, in the foreground with
its log read line by line, or as a daemon found through its pidfile and log file.

Every process gets the environment of support.hermetic: no ROOMCHAT_* or NOTIFY_SOCKET
variables, its own HOME and XDG directories, and an empty roomchat.toml where the
server looks first, so neither the user's nor the system's configuration leaks in.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from support.hermetic import hermetic_env

LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")
SERVER = [sys.executable, "-m", "chat_server"]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The private environment of support.hermetic, under `home`."""
    return hermetic_env(home, **extra)


def run_cli(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 15.0,
            ) -> subprocess.CompletedProcess[str]:
    """Run chat-server to completion (a config command, or a daemon's launcher)."""
    return subprocess.run([*SERVER, *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, check=False)


def alive(pid: int) -> bool:
    """True while `pid` runs; a zombie nobody has reaped yet counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll a condition with no event to wait on (a daemon's files, its pid), bounded."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Service:
    """A foreground chat-server on an ephemeral port whose log is read as it is written."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.log: list[str] = []
        self.port = 0

    @classmethod
    async def start(cls, *args: str, env: dict[str, str]) -> Service:
        proc = await asyncio.create_subprocess_exec(
            *SERVER, "--port", "0", *args, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        service = cls(proc)
        try:
            found = await service.expect_log(LISTENING.pattern, timeout=15.0)
        except BaseException:
            await service.close()
            raise
        service.port = int(found.group(2))
        return service

    async def expect_log(self, pattern: str, timeout: float = 5.0) -> re.Match[str]:
        """Read log lines until one matches `pattern`."""
        assert self.proc.stderr is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no log line matching {pattern!r}:\n{''.join(self.log)}")
            try:
                raw = await asyncio.wait_for(self.proc.stderr.readline(), remaining)
            except TimeoutError:
                continue
            if not raw:
                raise AssertionError(f"log ended before {pattern!r}:\n{''.join(self.log)}")
            line = raw.decode("utf-8", "replace")
            self.log.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    async def finish(self, timeout: float = 10.0) -> int:
        """Wait for the exit, keeping the rest of the log; the exit status."""
        assert self.proc.stderr is not None
        rest = await asyncio.wait_for(self.proc.stderr.read(), timeout)
        self.log.extend(rest.decode("utf-8", "replace").splitlines(keepends=True))
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.finish()
