"""History in tests: a server that keeps history in memory, and reading history batches.

`running_history_server` is `running_server` with the in-memory store as the hub's
history and `[history]` keys set from keyword arguments; `read_batch` reads one
BATCH +ref ... BATCH -ref (or the lines up to a marker for clients without batches).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from chat_server.app import ChatServer
from chat_server.config import apply
from chat_server.hub.history import NullHistory
from chat_server.protocol.message import Message
from chat_server.store.memory import MemoryStore
from support.irc import IrcClient
from support.servers import make_config

# Every history client's caps: what a modern client (gamja, Goguma) negotiates.
FULL_CAPS = ("batch", "draft/chathistory", "echo-message", "message-tags", "server-time")


@asynccontextmanager
async def running_history_server(limits: dict[str, Any] | None = None,
                                 **history: Any) -> AsyncIterator[ChatServer]:
    config = make_config(**(limits or {}))
    apply(config, {"store": {"backend": "memory"}, "history": history}, "test")
    server = ChatServer(config)
    server.hub.settings.history = config.history
    store: MemoryStore | None = None
    if isinstance(server.hub.history, NullHistory):
        # The server keeps no history of its own in this configuration: give it one.
        store = MemoryStore(config.store, config.history)
        store.open()
        store.start(asyncio.get_running_loop())
        server.hub.history = store
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        if store is not None:
            store.close()


async def read_batch(client: IrcClient, timeout: float = 5.0) -> tuple[Message, list[Message]]:
    """The next batch: its BATCH +ref line and the lines inside it, in order."""
    start = await client.expect(lambda m: m.command == "BATCH" and m.param(0)[:1] == "+",
                                timeout)
    ref = start.param(0)[1:]
    inside: list[Message] = []
    while True:
        msg = await client.expect(lambda m: True, timeout)
        if msg.command == "BATCH" and msg.param(0) == "-" + ref:
            return start, inside
        assert msg.tags.get("batch") == ref, f"a line outside batch {ref}: {msg}"
        inside.append(msg)


async def history(client: IrcClient, line: str) -> list[Message]:
    """Send a CHATHISTORY request and return the lines of the batch that answers it."""
    await client.send(line)
    _, lines = await read_batch(client)
    return lines


def texts(lines: list[Message]) -> list[str]:
    return [m.param(1) for m in lines]
