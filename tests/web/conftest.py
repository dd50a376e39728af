"""Fixtures for the web port: an in-process server with [web] on and posting tokens.

The `server` fixture here replaces the suite's, so the suite's `connect` (TCP IRC
clients) talks to the same server the WebSocket and HTTP clients do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.servers import make_config
from support.web import write_tokens

from chat_server.app import ChatServer


@pytest.fixture
def web_limits() -> dict[str, object]:
    """[limits] for this module's server; a module overrides it to tighten them."""
    return {}


@pytest.fixture
async def server(tmp_path: Path, web_limits: dict[str, object]) -> AsyncIterator[ChatServer]:
    config = make_config(**web_limits)
    config.web.listen = "127.0.0.1:0"
    config.web.tokens_file = str(write_tokens(tmp_path))
    config.web.origins = "https://chat.example.org"
    config.web.max_body_bytes = 4096
    srv = ChatServer(config)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def web_base(server: ChatServer) -> str:
    host, port = server.web_addresses[0]
    return f"{host}:{port}"
