"""Fixtures: an in-process server on an ephemeral port and clients that close themselves.

Also Hypothesis's profiles: "ci" (chosen when CI is set) has no per-example deadline,
since a loaded CI machine makes timing a property of the machine, not of the code.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, settings
from support.irc import ClientFactory, IrcClient
from support.servers import running_server
from support.tools import in_ci

from chat_server.app import ChatServer

settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
if in_ci():
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def private_dirs(tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Code run inside the test process (a client's STS policy, a default data dir)
    reads and writes the XDG directories of a temp dir, never the developer's."""
    base = tmp_path_factory.mktemp("xdg")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        path = base / name.lower()
        path.mkdir()
        monkeypatch.setenv(name, str(path))
    for name in [n for n in os.environ if n.startswith("ROOMCHAT_")]:
        monkeypatch.delenv(name)


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    async with running_server() as srv:
        yield srv


@pytest.fixture
async def connect(server: ChatServer) -> AsyncIterator[ClientFactory]:
    """connect() opens a raw client; connect("bob") also registers it as bob."""
    clients: list[IrcClient] = []

    async def factory(nick: str | None = None, caps: tuple[str, ...] = ()) -> IrcClient:
        host, port = server.addresses[0]
        client = await IrcClient.connect(host, port)
        clients.append(client)
        if nick is not None:
            await client.register(nick, caps)
        return client

    yield factory
    for client in clients:
        await client.close()
