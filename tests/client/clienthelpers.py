"""Shared helpers for the client tests: a client wired to a list instead of a socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from chat_client.client import Client
from chat_client.config import Config
from chat_server.protocol.message import Message, parse_line


class Wire:
    """What the client wrote, as parsed lines."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def take(self) -> list[Message]:
        lines = [parse_line(raw) for raw in bytes(self.data).split(b"\r\n") if raw]
        self.data.clear()
        return lines

    def commands(self) -> list[str]:
        return [m.to_line() for m in self.take()]


def feed(client: Client, *lines: str) -> None:
    client.receive("".join(f"{line}\r\n" for line in lines).encode())


def make_client(*, caps: str = "server-time echo-message message-tags batch",
                rooms: tuple[str, ...] = ("#lobby",), **config: object) -> tuple[Client, Wire]:
    """A registered client whose rooms are joined, with the wire emptied."""
    client = Client(Config(nick="me", host="irc.test", rooms=rooms, **config))  # type: ignore[arg-type]
    wire = Wire()
    client.attach(wire.write)
    feed(client, f":srv CAP * LS :{caps}")
    if caps:
        feed(client, f":srv CAP me ACK :{caps}")
    feed(client, ":srv 001 me :Welcome", ":srv 005 me CHANTYPES=# PREFIX=(ov)@+ :are supported")
    for room in rooms:
        feed(client, f":me!u@h JOIN {room}", f":srv 353 me = {room} :@me bob +carol",
             f":srv 366 me {room} :End of /NAMES list.")
    wire.take()
    return client, wire


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the loop run until `condition` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        await asyncio.sleep(0.005)
