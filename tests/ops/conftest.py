"""Fixtures for the service tests: a clean environment, and cleanup of every server
process and client a test started, also when it fails half-way."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from support.irc import IrcClient
from support.service import Service, alive, clean_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path)


@pytest.fixture
async def start_service(env: dict[str, str]) -> AsyncIterator[Callable[..., Awaitable[Service]]]:
    """start_service(*args, environ=None) runs a foreground chat-server on a free port."""
    started: list[Service] = []

    async def start(*args: str, environ: dict[str, str] | None = None) -> Service:
        service = await Service.start(*args, env=environ or env)
        started.append(service)
        return service

    yield start
    for service in started:
        await service.close()


@pytest.fixture
async def irc() -> AsyncIterator[Callable[..., Awaitable[IrcClient]]]:
    """irc(port, nick=None, password=None) connects (and registers) a client."""
    clients: list[IrcClient] = []

    async def connect(port: int, nick: str | None = None, password: str | None = None,
                      ) -> IrcClient:
        client = await IrcClient.connect("127.0.0.1", port)
        clients.append(client)
        if password is not None:
            await client.send(f"PASS {password}")
        if nick is not None:
            await client.register(nick)
        return client

    yield connect
    for client in clients:
        await client.close()


@pytest.fixture
def pidfiles() -> Iterator[list[Path]]:
    """Pidfiles of daemons a test starts: whatever they name is killed at the end."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        with contextlib.suppress(OSError, ValueError):
            pid = int(path.read_text())
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
