"""Helpers for the end-to-end tests: a real chat-server process, a raw IRC socket, tmux.

Everything here waits by polling for the thing it needs (a listening port, a line on
the socket, text on the screen) with a deadline, never by sleeping a fixed time.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

TIMEOUT = 15.0
POLL = 0.02
BIN = Path(sys.executable).parent
TMUX_MISSING = shutil.which("tmux") is None
TMUX_REASON = (
    "tmux is not installed: scripts/test installs it when run as root "
    "(apt-get install -y tmux); install it to run the terminal tests"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def poll(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL)


class ServerProcess:
    """`chat-server` on a given port, logging to a file; stop() ends it."""

    def __init__(self, port: int, workdir: Path, config: str | None = None) -> None:
        self.port = port
        args = [str(BIN / "chat-server"), "--host", "127.0.0.1", "--port", str(port)]
        if config is not None:
            path = workdir / f"server-{uuid.uuid4().hex}.toml"
            path.write_text(config)
            args += ["--config", str(path)]
        self.log = (workdir / f"server-{uuid.uuid4().hex}.log").open("wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=workdir)
        poll(self._accepting, f"chat-server to listen on {port}")

    def _accepting(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"chat-server exited with {self.proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


class RawIrc:
    """A hand-driven IRC client on a real socket."""

    def __init__(self, port: int, nick: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.reader = self.sock.makefile("rb")
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :{nick}")
        self.expect(r"^:\S+ 001 ")

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            raw = self.reader.readline()
            if not raw:
                raise AssertionError(f"connection closed before {pattern!r}")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("PING"):
                self.send("PONG" + line[4:])
            if regex.search(line):
                return line

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class Tmux:
    """A private tmux server (its own socket) running one command in one pane."""

    def __init__(self, workdir: Path) -> None:
        self.socket = f"roomchat-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.workdir = workdir

    def tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], check=True,
                                capture_output=True, text=True, timeout=TIMEOUT)
        return result.stdout

    def start(self, argv: list[str], env: dict[str, str], width: int = 100,
              height: int = 30) -> None:
        """Run argv in a detached session; its exit status is printed when it ends."""
        assignments = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        command = " ".join(_quote(a) for a in argv)
        shell = f"env {assignments} {command}; echo EXITED $?; sleep 600"
        self.tmux("new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height),
                  "-c", str(self.workdir), shell)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main")

    def wait_for(self, check: str | Callable[[str], bool], timeout: float = TIMEOUT) -> str:
        """Poll the screen until it contains the text (or passes the check)."""
        test = (lambda s: check in s) if isinstance(check, str) else check
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if test(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never showed {check!r}; last screen:\n{shown}")
            time.sleep(POLL)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "main", "-l", text)

    def key(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "main", *keys)

    def resize(self, width: int, height: int) -> None:
        self.tmux("resize-window", "-t", "main", "-x", str(width), "-y", str(height))

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=TIMEOUT, check=False)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def client_env(workdir: Path, config: str) -> dict[str, str]:
    """A private XDG config directory holding `config` as client.toml."""
    home = workdir / "config"
    (home / "roomchat").mkdir(parents=True, exist_ok=True)
    (home / "roomchat" / "client.toml").write_text(config)
    return {"XDG_CONFIG_HOME": str(home), "TERM": "xterm-256color", "LANG": "C.UTF-8"}
