"""Fixtures for the cluster tests: a redis-server of the test's own, nodes against it,
and clients that close themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cluster import Node, NodeFactory, RedisServer
from support.irc import IrcClient
from support.plain import PlainClient


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def node(tmp_path: Path, redis_server: RedisServer) -> Iterator[NodeFactory]:
    """node("a") starts a chat-server named a against the test's Redis."""
    started: list[Node] = []

    def factory(name: str, *args: str, **kwargs: Any) -> Node:
        made = Node(tmp_path, redis_server.url, name, *args, **kwargs)
        started.append(made)
        return made

    try:
        yield factory
    finally:
        for made in started:
            made.stop()


@pytest.fixture
async def clients() -> AsyncIterator[list[IrcClient | PlainClient]]:
    """Append every client opened; they are closed at the end."""
    opened: list[IrcClient | PlainClient] = []
    try:
        yield opened
    finally:
        for client in opened:
            await client.close()
