"""Helpers for the end-to-end tests: a real chat-server process, a raw IRC socket, tmux.

Everything here waits by polling for the thing it needs (a listening port, a line on
the socket, text on the screen) with a deadline, never by sleeping a fixed time.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from support.hermetic import empty_config, hermetic_env
from support.tools import require_tool

TIMEOUT = 15.0
POLL = 0.02
BIN = Path(sys.executable).parent
LISTENING = re.compile(r"listening on [\d.]+:(\d+)")


def require_tmux() -> None:
    """Skip (or, under CI, fail) the test when tmux is missing."""
    require_tool("tmux", apt="tmux")


def poll(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL)


class ServerProcess:
    """`chat-server` logging to a file, on the port it picked (or the one given); stop() ends it.

    It runs in the private environment of support.hermetic, with an empty --config
    unless `config` gives the file's text.
    """

    def __init__(self, workdir: Path, config: str | None = None, port: int = 0) -> None:
        if config is None:
            path = empty_config(workdir)
        else:
            path = workdir / f"server-{uuid.uuid4().hex}.toml"
            path.write_text(config)
        args = [str(BIN / "chat-server"), "--host", "127.0.0.1", "--port", str(port),
                "--config", str(path)]
        self.log_path = workdir / f"server-{uuid.uuid4().hex}.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=workdir,
                                     env=hermetic_env(workdir))
        self.port = 0
        poll(self._listening, "chat-server to log the port it listens on")

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"chat-server exited with {self.proc.returncode}: "
                                 f"{self.log_path.read_text()}")
        found = LISTENING.search(self.log_path.read_text())
        if found:
            self.port = int(found.group(1))
        return found is not None

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

    def __init__(self, port: int, nick: str, password: str | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.reader = self.sock.makefile("rb")
        if password is not None:
            self.send(f"PASS {password}")
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


def make_account(port: int, nick: str, password: str) -> None:
    """An account named `nick` (IRCv3 REGISTER), and the nick left free again."""
    owner = RawIrc(port, nick)
    try:
        owner.send(f"REGISTER * * {password}")
        owner.expect(rf" 900 {nick} ")
        owner.send("QUIT")
        owner.expect(r"^ERROR ")
    finally:
        owner.close()


class Tmux:
    """A private tmux server (its own socket) running one command in one pane."""

    def __init__(self, workdir: Path) -> None:
        self.socket = f"roomchat-test-{uuid.uuid4().hex}"
        self.workdir = workdir

    def tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], check=True,
                                capture_output=True, text=True, timeout=TIMEOUT,
                                env=_outside_tmux())
        return result.stdout

    def start(self, argv: list[str], env: dict[str, str], width: int = 100,
              height: int = 30) -> None:
        """Run argv in a detached session, in exactly `env`; its exit status is printed
        when it ends."""
        assignments = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        command = " ".join(_quote(a) for a in argv)
        shell = f"env -i {assignments} {command}; echo EXITED $?; sleep 600"
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
                       timeout=TIMEOUT, check=False, env=_outside_tmux())


def _outside_tmux() -> dict[str, str]:
    """Our environment without the variables of a tmux session the tests may run in."""
    return {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def client_env(workdir: Path, config: str) -> dict[str, str]:
    """Only PATH (and PYTHONPATH, which says whose code runs) and the private HOME and
    XDG directories of support.hermetic, the config home holding `config` as
    client.toml; a known terminal and locale."""
    private = hermetic_env(workdir)
    env = {k: v for k, v in private.items()
           if k in ("PATH", "HOME", "PYTHONPATH") or k.startswith("XDG_")}
    env |= {"TERM": "xterm-256color", "LANG": "C.UTF-8"}
    client_toml = Path(env["XDG_CONFIG_HOME"], "roomchat", "client.toml")
    client_toml.write_text(config)
    return env
