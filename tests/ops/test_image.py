"""The container image's own command lines, run without a container engine.

The CMD, HEALTHCHECK and STOPSIGNAL are read from the Dockerfile and run as they are,
with the image's ENV, its /data volume (configuration through XDG_CONFIG_HOME) laid out
in a temporary directory, and a roomchat.toml there that sets only the port: what an
operator does to move the server, which the health check must follow.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

from support.dockerfile import (
    cmd,
    final_workdir,
    healthcheck,
    image_env,
    only,
    remapped,
    seconds,
)
from support.hermetic import hermetic_env
from support.irc import IrcClient
from support.service import Service

from chat_server.store.base import DB_NAME

BIN = Path(sys.executable).parent
# `docker stop` waits this long after STOPSIGNAL before it kills.
STOP_GRACE = 10.0


def image_environment(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The image's ENV over a private environment, /data moved to tmp_path/data; and
    the working directory the image runs in."""
    data = tmp_path / "data"
    env = hermetic_env(tmp_path)
    for key, value in image_env().items():
        env[key] = remapped(value, data)
    # The roomchat user's home is the volume; `python` and `chat-server` are the
    # package's, as `pip install .` puts them on the image's PATH.
    env["HOME"] = str(data)
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    workdir = Path(remapped(final_workdir(), data))
    workdir.mkdir(parents=True, exist_ok=True)
    (data / "config" / "roomchat").mkdir(parents=True, exist_ok=True)
    return env, workdir


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_healthcheck(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """The HEALTHCHECK command, bounded by its own --timeout; its status and stderr."""
    options, command = healthcheck()
    proc = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    # Docker kills a check that outlives --timeout and counts it as a failure; here it
    # gets the time a loaded machine needs to start Python as well.
    _, err = await asyncio.wait_for(proc.communicate(), seconds(options["timeout"]) + 10)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def start_image_cmd(env: dict[str, str], cwd: Path, config: Path) -> tuple[Service, int]:
    """The image's CMD with a port written in `config`; a port taken by someone else
    between choosing it and binding it is chosen again."""
    for attempt in range(3):
        port = unused_port()
        config.write_text(f"[server]\nport = {port}\n")
        proc = await asyncio.create_subprocess_exec(
            *cmd(), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        service = Service(proc)
        try:
            found = await service.expect_log(r"listening on (\S+):(\d+)", timeout=15)
        except AssertionError:
            await service.close()
            if attempt < 2 and "Address already in use" in "".join(service.log):
                continue
            raise
        assert (found.group(1), int(found.group(2))) == ("0.0.0.0", port), found.group(0)
        return service, port
    raise AssertionError("unreachable")


async def test_cmd_healthcheck_and_stop_signal_with_the_port_set_only_in_the_volume(
    tmp_path: Path,
) -> None:
    env, workdir = image_environment(tmp_path)
    config = Path(env["XDG_CONFIG_HOME"], "roomchat", "roomchat.toml")
    assert config.is_relative_to(tmp_path / "data"), "the config home is on the volume"
    service, port = await start_image_cmd(env, workdir, config)
    client = None
    try:
        assert await run_healthcheck(env, workdir) == (0, "")
        # The environment beats the file, for the check as for the server.
        moved = env | {"ROOMCHAT_SERVER_PORT": str(unused_port())}
        status, said = await run_healthcheck(moved, workdir)
        assert status == 1 and said.startswith("healthcheck: no PONG from 127.0.0.1:"), said

        client = await IrcClient.connect("127.0.0.1", port)
        await client.register("operator")
        # docker stop: STOPSIGNAL to PID 1, which must tell its clients and exit 0.
        service.proc.send_signal(signal.Signals[only("STOPSIGNAL")])
        rest = await client.at_eof(timeout=STOP_GRACE)
        assert rest[-1] == "ERROR :Closing Link: 127.0.0.1 (Server shutting down)", rest
        assert await service.finish(timeout=STOP_GRACE) == 0, "".join(service.log)
    finally:
        if client is not None:
            await client.close()
        await service.close()
    status, said = await run_healthcheck(env, workdir)
    assert status == 1 and said == f"healthcheck: no PONG from 127.0.0.1:{port}\n"
    # The history database is on the volume, where it outlives the container.
    assert list((tmp_path / "data").rglob(DB_NAME)), "no history database on /data"


async def test_a_bad_configuration_makes_the_healthcheck_fail_with_one_line(
    tmp_path: Path,
) -> None:
    env, workdir = image_environment(tmp_path)
    Path(env["XDG_CONFIG_HOME"], "roomchat", "roomchat.toml").write_text("[server]\nport = 'x'\n")
    status, said = await run_healthcheck(env, workdir)
    assert status == 1
    assert said.startswith("healthcheck: ") and said.count("\n") == 1, said
    assert "server.port must be int" in said
