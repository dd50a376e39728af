"""The client against the real server, not against hand-written server lines.

The core and its connection run against an in-process ChatServer: registering,
joining, chatting both ways, losing the server and coming back to a new one on the
same port, and a server password. Then the `chat-client --simple` command itself,
in tmux, against a chat-server process that asks for a password.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from client.clienthelpers import until
from client.terminal import BIN, RawIrc, ServerProcess, Tmux, client_env, require_tmux
from support.irc import IrcClient
from support.servers import running_server

from chat_client.client import Client
from chat_client.config import Config
from chat_client.net import Connection
from chat_client.state import Buffer, ConnState
from chat_server.app import ChatServer

TIMEOUT = 10.0


@asynccontextmanager
async def connected(port: int, **config: object) -> AsyncIterator[Client]:
    """A client core and its connection loop on 127.0.0.1:port, quit when the block ends."""
    client = Client(Config(nick="tester", port=port, reconnect_min=0.05, reconnect_max=0.2,
                           **config))  # type: ignore[arg-type]
    task = asyncio.create_task(Connection(client, random.Random(3)).run())
    try:
        yield client
    finally:
        client.quit()
        try:
            await asyncio.wait_for(task, TIMEOUT)
        finally:
            task.cancel()


def room(client: Client, name: str = "#lobby") -> Buffer:
    buf = client.state.find(name)
    assert buf is not None, f"no buffer {name}"
    return buf


def texts(buf: Buffer | None) -> list[str]:
    return [] if buf is None else [f"<{line.nick}> {line.text}" for line in buf.lines]


def shows(client: Client, room: str, text: str) -> Callable[[], bool]:
    return lambda: text in texts(client.state.find(room))


async def joined_by(server: ChatServer, nick: str, room: str, password: str | None = None,
                    ) -> IrcClient:
    """A raw IRC user in `room`, once it has seen `nick` there."""
    host, port = server.addresses[0]
    other = await IrcClient.connect(host, port)
    if password is not None:
        await other.send(f"PASS {password}")
    await other.register("bob")
    await other.send(f"JOIN {room}")
    names = await other.expect(lambda m: m.command == "353" and m.param(2) == room)
    if nick not in names.params[-1].replace("@", "").split():
        await other.expect(rf"^:{nick}!\S+ JOIN :?{room}$")
    return other


async def test_registers_joins_chats_loses_the_server_and_comes_back() -> None:
    async with running_server() as server:
        port = server.addresses[0][1]
        async with connected(port, rooms=("#lobby",)) as client:
            await until(lambda: client.online and room(client).joined, TIMEOUT)
            bob = await joined_by(server, "tester", "#lobby")
            await until(lambda: "bob" in room(client).members, TIMEOUT)
            client.send_message("#lobby", "hello from the real client")
            await bob.expect(r"^:tester!\S+ PRIVMSG #lobby :hello from the real client$")
            await bob.send("PRIVMSG #lobby :hello back")
            await until(shows(client, "#lobby", "<bob> hello back"), TIMEOUT)
            await bob.close()

            await server.stop()
            await until(lambda: client.state.conn is ConnState.RECONNECTING, TIMEOUT)
            assert not client.online
            client.send_message("#lobby", "into the void")
            assert "Not connected: message not sent." in texts(client.state.active)[-1]

            # A new server on the same port, as after a restart: the client returns by
            # itself, registers again and rejoins its room.
            async with running_server(server_port=port) as again:
                bob = await joined_by(again, "tester", "#lobby")
                await until(lambda: client.state.conn is ConnState.CONNECTED, TIMEOUT)
                await bob.send("PRIVMSG #lobby :welcome back")
                await until(shows(client, "#lobby", "<bob> welcome back"), TIMEOUT)
                client.send_message("#lobby", "glad to be back")
                await bob.expect(r"^:tester!\S+ PRIVMSG #lobby :glad to be back$")
                await bob.close()


async def test_a_server_password_is_sent_and_a_wrong_one_is_shown() -> None:
    async with running_server(server_password="sesame") as server:
        port = server.addresses[0][1]
        async with connected(port, rooms=("#lobby",), password="sesame") as client:
            await until(lambda: client.online, TIMEOUT)
            bob = await joined_by(server, "tester", "#lobby", password="sesame")
            client.send_message("#lobby", "I knew the word")
            await bob.expect(r"^:tester!\S+ PRIVMSG #lobby :I knew the word$")
            await bob.close()
        async with connected(port, rooms=("#lobby",), password="wrong") as client:
            # What the server said is shown where the user is looking.
            await until(lambda: "Password incorrect" in [line.text for line in
                                                         client.state.active.lines], TIMEOUT)
            assert not client.online and not client.protocol.registered


# -- the chat-client command ------------------------------------------------------


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    require_tmux()
    term = Tmux(tmp_path)
    yield term
    term.kill()


def test_simple_mode_with_a_password_through_the_real_command(
    tmux: Tmux, tmp_path: Path
) -> None:
    server = ServerProcess(tmp_path, '[server]\npassword = "sesame"\n')
    try:
        argv = [str(BIN / "chat-client"), f"127.0.0.1:{server.port}", "--simple",
                "--nick", "tester", "--room", "#lobby", "--password", "sesame"]
        tmux.start(argv, client_env(tmp_path, "bell = false\n"))
        bob = RawIrc(server.port, "bob", password="sesame")
        try:
            bob.send("JOIN #lobby")
            names = bob.expect(r" 353 bob . #lobby :?")
            if "tester" not in names.split(" #lobby ", 1)[1].lstrip(":").replace("@", "").split():
                bob.expect(r"^:tester!\S+ JOIN :?#lobby$")
            tmux.type("hello from simple mode")
            tmux.key("Enter")
            bob.expect(r"^:tester!\S+ PRIVMSG #lobby :hello from simple mode$")
            bob.send("PRIVMSG #lobby :seen in the transcript")
            tmux.wait_for("<bob> seen in the transcript")
            tmux.type("/quit")
            tmux.key("Enter")
            bob.expect(r"^:tester!\S+ QUIT ")
            tmux.wait_for("EXITED 0")
        finally:
            bob.close()
    finally:
        server.stop()
