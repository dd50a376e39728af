"""The Dockerfile, .dockerignore and systemd unit stay consistent with the package:
what the image relies on is checked here; tests/ops/test_image.py runs its commands."""

from __future__ import annotations

import configparser
import json
import re
import socket
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path

from support.dockerfile import instructions, only
from support.service import Service

from chat_server.config import ServerSection
from chat_server.ops.healthcheck import answers

ROOT = Path(__file__).parents[2]
Start = Callable[..., Awaitable[Service]]


def test_the_image_runs_the_packaged_server_in_the_foreground_on_its_port() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim", only("FROM"))
    cmd = json.loads(only("CMD"))
    assert cmd[0] in scripts and scripts[cmd[0]] == "chat_server.app:main"
    assert cmd[1:] == ["--host", "0.0.0.0"]
    assert "--daemon" not in cmd
    assert only("EXPOSE") == str(ServerSection().port)
    assert only("VOLUME") == "/data"
    assert any(word == "RUN" and "pip install ." in rest for word, rest in instructions())


def test_the_image_runs_as_the_unprivileged_user_it_creates() -> None:
    user = only("USER")
    assert user not in ("root", "0")
    creates = [rest for word, rest in instructions() if word == "RUN" and "useradd" in rest]
    assert creates and re.search(rf"useradd .*\b{user}\b", creates[0])
    assert f"chown -R {user}:{user} /data" in creates[0]
    words = [word for word, _ in instructions()]
    assert words.index("USER") < words.index("CMD")


def test_the_healthcheck_runs_a_module_of_the_package() -> None:
    check = only("HEALTHCHECK")
    command = json.loads(check.split(" CMD ", 1)[1])
    assert command == ["python", "-m", "chat_server.ops.healthcheck"]


def test_dockerignore_keeps_the_build_inputs_and_drops_the_rest() -> None:
    ignored = {line for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line and not line.startswith("#")}
    copied = {part for word, rest in instructions() if word == "COPY"
              for part in rest.split()[:-1]}
    assert copied == {"pyproject.toml", "README.md", "chat_server", "chat_client"}
    assert not copied & ignored
    assert {".git", ".venv", "tests"} <= ignored


async def test_the_healthcheck_needs_an_answer_not_just_an_open_port(
    start_service: Start,
) -> None:
    service = await start_service()
    assert answers("127.0.0.1", service.port)
    with socket.socket() as mute:
        # Connections to it complete in the kernel's backlog but nobody ever answers.
        mute.bind(("127.0.0.1", 0))
        mute.listen()
        assert not answers("127.0.0.1", mute.getsockname()[1], timeout=0.3)


def test_the_systemd_unit_runs_the_server_in_the_foreground_as_a_user() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read(ROOT / "scripts" / "roomchat.service")
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert service["ExecStart"].split()[0].endswith("/chat-server")
    assert "--daemon" not in service["ExecStart"]
    assert service["User"] not in ("root", "0")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
