"""`chat-server --daemon`: detached, found through its pidfile, reloaded, stopped."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import termios
from collections.abc import Awaitable, Callable
from pathlib import Path

from support.irc import IrcClient
from support.service import SERVER, alive, run_cli, wait_for

Connect = Callable[..., Awaitable[IrcClient]]


def live_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: state, ppid, pgrp, session, tty_nr, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _take_the_terminal() -> None:
    """In the child, a session leader already: make its stdin its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def launch_from_a_terminal(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run the launcher as from a shell: leader of a session whose terminal is its stdin.

    The launcher's pid (its session's id) and what it wrote to stderr, once it has exited 0.
    """
    controller, terminal = os.openpty()
    try:
        launcher = subprocess.Popen(
            [*SERVER, *args], env=env, cwd=cwd, stdin=terminal, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
            preexec_fn=_take_the_terminal,
        )
        _, err = launcher.communicate(timeout=15)
    finally:
        os.close(terminal)
        os.close(controller)
    assert launcher.returncode == 0, err
    return launcher.pid, err


def assert_detached(pid: int, launcher_session: int) -> None:
    """The daemon left the launcher's session and has no controlling terminal, as a
    daemon must: closing the terminal that started it cannot reach it."""
    fields = stat_fields(pid)
    ppid, session, tty_nr = int(fields[1]), int(fields[3]), int(fields[4])
    assert ppid != os.getpid(), "the daemon is still our child"
    assert session != launcher_session, "the daemon stayed in the launcher's session"
    assert session != os.getsid(0), "the daemon is in our session"
    assert tty_nr == 0, f"the daemon has a controlling terminal (tty_nr {tty_nr})"


def start_daemon(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, int]:
    """Start a daemon on a free port from a terminal; its pid (from the pidfile) and port
    (from the log), once it is known to have detached.

    Paths are given relative to `tmp_path`, where it starts: the daemon moves to /.
    """
    pidfile, log_file = tmp_path / "roomchat.pid", tmp_path / "roomchat.log"
    launcher, _ = launch_from_a_terminal(
        "--daemon", "--pidfile", pidfile.name, "--log-file", log_file.name, "--port", "0",
        *args, env=env, cwd=tmp_path)
    # The pidfile names the daemon once it listens, after the "listening on" line.
    wait_for(lambda: live_pid(pidfile) is not None, "the pidfile")
    pid = live_pid(pidfile)
    assert pid is not None
    assert_detached(pid, launcher)
    found = re.search(r"listening on [\d.]+:(\d+)", log_file.read_text())
    assert found, log_file.read_text()
    return pid, int(found.group(1))


async def test_daemon_chats_reloads_on_sighup_and_stops_on_sigterm(
    tmp_path: Path, env: dict[str, str], irc: Connect, pidfiles: list[Path]
) -> None:
    motd = tmp_path / "motd.txt"
    motd.write_text("first motd\n")
    config = tmp_path / "roomchat.toml"
    config.write_text('[server]\nmotd_file = "motd.txt"\n[limits]\nmax_targets = 4\n')
    pidfiles.append(tmp_path / "roomchat.pid")
    pid, port = start_daemon(tmp_path, env, "--config", config.name)
    assert alive(pid)

    alice = await irc(port, "alice")
    bob = await irc(port, "bob")
    assert any("first motd" in line for line in alice.seen)
    await alice.join("#ops")
    await bob.join("#ops")
    await alice.send("PRIVMSG #ops :hello through the daemon")
    await bob.expect(r"PRIVMSG #ops :hello through the daemon$")

    motd.write_text("second motd\n")
    config.write_text('[server]\nmotd_file = "motd.txt"\n[limits]\nmax_targets = 2\n')
    log_file = tmp_path / "roomchat.log"
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: "reload: motd reloaded" in log_file.read_text(), "the reload")
    assert "reload: limits.max_targets 4 -> 2" in log_file.read_text()

    carol = await irc(port, "carol")
    assert any("second motd" in line for line in carol.seen)
    assert any("MAXTARGETS=2" in line for line in carol.seen)
    await bob.send("PRIVMSG #ops :still here after the reload")
    await alice.expect(r"PRIVMSG #ops :still here after the reload$")

    os.kill(pid, signal.SIGTERM)
    for client in (alice, bob, carol):
        await client.expect(r"^ERROR :.*Server shutting down")
        # As IRC clients do on ERROR; the server waits for it, up to shutdown_grace.
        await client.close()
    wait_for(lambda: not alive(pid), "the daemon to exit")
    assert not (tmp_path / "roomchat.pid").exists()
    assert "stopped" in log_file.read_text()


async def test_a_second_daemon_with_the_same_pidfile_is_refused(
    tmp_path: Path, env: dict[str, str], pidfiles: list[Path]
) -> None:
    pidfile = tmp_path / "roomchat.pid"
    pidfiles.append(pidfile)
    pid, _ = start_daemon(tmp_path, env)

    second = run_cli("--daemon", "--pidfile", str(pidfile), "--log-file",
                     str(tmp_path / "second.log"), "--port", "0", env=env)
    assert second.returncode == 1
    assert second.stderr == f"chat-server: already running as pid {pid} (pidfile {pidfile})\n"
    assert alive(pid) and pidfile.read_text() == f"{pid}\n"

    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not alive(pid), "the daemon to exit")
    assert not pidfile.exists()


def test_a_stale_pidfile_is_taken_over(
    tmp_path: Path, env: dict[str, str], pidfiles: list[Path]
) -> None:
    pidfile = tmp_path / "roomchat.pid"
    pidfiles.append(pidfile)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pidfile.write_text(f"{dead.pid}\n")

    pid, _ = start_daemon(tmp_path, env)
    assert pid != dead.pid
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not alive(pid), "the daemon to exit")


def test_a_port_in_use_is_an_error_on_the_terminal_before_detaching(
    tmp_path: Path, env: dict[str, str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--daemon", "--pidfile", str(tmp_path / "roomchat.pid"),
                         "--log-file", str(tmp_path / "roomchat.log"), "--port", str(port),
                         env=env)
    assert result.returncode == 1
    assert result.stderr == (
        f"chat-server: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
    assert not (tmp_path / "roomchat.pid").exists()


def test_unwritable_paths_are_errors_on_the_terminal_before_detaching(
    tmp_path: Path, env: dict[str, str]
) -> None:
    missing = tmp_path / "missing"
    result = run_cli("--daemon", "--pidfile", str(missing / "roomchat.pid"),
                     "--log-file", str(tmp_path / "roomchat.log"), "--port", "0", env=env)
    assert result.returncode == 1
    assert result.stderr == (
        f"chat-server: cannot write pidfile {missing}/roomchat.pid: No such file or directory\n"
    )

    result = run_cli("--daemon", "--pidfile", str(tmp_path / "roomchat.pid"),
                     "--log-file", str(missing / "roomchat.log"), "--port", "0", env=env)
    assert result.returncode == 1
    assert result.stderr == (
        f"chat-server: cannot open log file {missing}/roomchat.log: No such file or directory\n"
    )


def test_daemon_without_a_log_file_is_a_usage_error(env: dict[str, str]) -> None:
    result = run_cli("--daemon", "--port", "0", env=env)
    assert result.returncode == 2
    assert "--daemon needs --log-file" in result.stderr
