"""systemd readiness: READY=1 once listening, RELOADING=1 then READY=1 around a SIGHUP,
STOPPING=1 on shutdown, sent to the datagram socket named by NOTIFY_SOCKET."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from support.service import Service

from chat_server.ops.notify import notify

Start = Callable[..., Awaitable[Service]]


@pytest.fixture
def manager() -> Iterator[tuple[socket.socket, str]]:
    """A fake service manager: an abstract-namespace datagram socket and its name."""
    name = f"@roomchat-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name[1:])
        sock.setblocking(False)
        yield sock, name


async def receive(sock: socket.socket) -> set[str]:
    data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 4096), 5.0)
    return set(data.decode().split("\n"))


async def test_ready_reloading_and_stopping_reach_the_notify_socket(
    env: dict[str, str], start_service: Start, manager: tuple[socket.socket, str]
) -> None:
    sock, name = manager
    service = await start_service(environ=env | {"NOTIFY_SOCKET": name})
    ready = await receive(sock)
    assert "READY=1" in ready
    assert f"STATUS=listening on 127.0.0.1:{service.port}" in ready

    service.proc.send_signal(signal.SIGHUP)
    reloading = await receive(sock)
    assert "RELOADING=1" in reloading
    assert any(item.startswith("MONOTONIC_USEC=") for item in reloading)
    assert await receive(sock) == {"READY=1"}

    service.proc.send_signal(signal.SIGTERM)
    assert await receive(sock) == {"STOPPING=1"}
    assert await service.finish() == 0


def test_a_path_socket_works_and_without_one_nothing_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        assert notify("READY=1", environ={"NOTIFY_SOCKET": str(path)})
        assert sock.recv(100) == b"READY=1"
    assert not notify("READY=1", environ={})


def test_an_unreachable_manager_is_logged_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "chat_server.notify"):
        assert not notify("READY=1", environ={"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert "cannot notify the service manager" in caplog.text
