"""The connection layer: backoff schedule, and a full session against a local listener."""

from __future__ import annotations

import asyncio
import random

from client.clienthelpers import until

from chat_client.client import Client
from chat_client.config import Config
from chat_client.net import Connection, backoff_delay
from chat_client.state import ConnState


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempt, step in enumerate([1, 2, 4, 8, 16, 30, 30]):
        delays = [backoff_delay(attempt, 1.0, 30.0, rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert max(delays) - min(delays) > step / 4  # really jittered


async def test_connects_registers_and_reconnects_after_a_drop() -> None:
    """A scripted server: answers registration, then hangs up once; the client returns."""
    connections: list[asyncio.StreamWriter] = []
    joined: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        while line := await reader.readline():
            text = line.decode().strip()
            if text.startswith("USER"):
                writer.write(b":srv 001 me :Welcome\r\n")
            elif text.startswith("CAP LS"):
                writer.write(b":srv CAP * LS :server-time\r\n")
            elif text.startswith("CAP REQ"):
                writer.write(b":srv CAP me ACK :server-time\r\n")
            elif text.startswith("JOIN"):
                joined.append(text)
                writer.write(f":me!u@h {text}\r\n".encode())
                if len(connections) == 1:
                    writer.close()
                    return
            elif text.startswith("PING"):
                writer.write(f":srv PONG srv :{text.split()[-1]}\r\n".encode())
            elif text.startswith("QUIT"):
                writer.close()
                return
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Client(Config(nick="me", port=port, rooms=("#a",), reconnect_min=0.05,
                           reconnect_max=0.1))
    states: list[ConnState] = []
    client.state.on_change.append(lambda: states.append(client.state.conn))
    task = asyncio.create_task(Connection(client, random.Random(1)).run())
    try:
        await until(lambda: len(joined) == 2 and client.state.conn is ConnState.CONNECTED
                    and client.state.lag is not None)
        assert ConnState.RECONNECTING in states
        assert joined == ["JOIN #a", "JOIN #a"]
        client.quit()
        await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        server.close()
        await server.wait_closed()
