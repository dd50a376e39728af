"""Mistakes and limits in plain mode, over real sockets: a clear `! ` line, and chat goes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from support.irc import ClientFactory
from support.plain import PlainClient, PlainFactory, plain_clients_of
from support.servers import running_server

from chat_server.app import ChatServer


@pytest.fixture
async def plain(server: ChatServer) -> AsyncIterator[PlainFactory]:
    async with plain_clients_of(server) as factory:
        yield factory


async def still_chatting(client: PlainClient, nick: str = "张三") -> None:
    await client.send("still here")
    assert await client.next() == f"#lobby <{nick}> still here"


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("/frob", "! Unknown command /frob — try /help"),
        ("/msg", "! Usage: /msg NICK TEXT"),
        ("/msg bob", "! Usage: /msg NICK TEXT"),
        ("/me", "! Usage: /me ACTION"),
        ("/join", "! Usage: /join ROOM [KEY]"),
        ("/msg nobody hi", "! Nobody here is called nobody."),
        ("/switch nowhere", "! You are not in #nowhere; /join #nowhere first."),
    ],
)
async def test_unknown_commands_and_missing_arguments(
    plain: PlainFactory, typed: str, answer: str
) -> None:
    client = await plain("张三")
    await client.send(typed)
    assert await client.next() == answer
    await still_chatting(client)


async def test_a_taken_nick_is_asked_for_again(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    await connect("李四")
    client = await plain()
    await client.send("李四")
    await client.expect(r"^Pick a nickname:$")
    assert await client.next() == "! Nickname 李四 is taken; pick another:"
    await client.send("bad nick")
    assert await client.next() == (
        "! bad nick cannot be a nickname (no spaces or , : * ? ! @, and no # or digit "
        "first); pick another:"
    )
    assert (await client.choose_nick("张三")).startswith("Welcome, 张三. ")
    await still_chatting(client)


async def test_long_lines_are_refused_and_never_reach_the_room(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob = await connect("bob")
    await bob.join("#lobby")
    client = await plain("张三")
    await client.send("y" * 5000)
    assert await client.next() == "! Line too long (max 4096 bytes); not sent."
    await client.send("z" * 20000)  # past the transport's own bound too
    assert await client.next() == "! Line too long (max 4096 bytes); not sent."
    await still_chatting(client)
    await bob.expect(r" PRIVMSG #lobby :still here$")
    assert not any("yyyy" in line or "zzzz" in line for line in bob.seen)


async def test_a_line_at_the_limit_reaches_irc_in_lines_of_512_bytes(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob = await connect("bob")
    await bob.join("#lobby")
    client = await plain("张三")
    text = "字" * 1365  # 4095 bytes of UTF-8
    await client.send(text)
    received = ""
    while received != text:
        msg = await bob.expect(r" PRIVMSG #lobby ")
        received += msg.params[1]
    assert all(len(line.encode()) + 2 <= 512 for line in bob.seen)


async def test_invalid_utf8_is_replaced_and_the_sender_is_told(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob = await connect("bob")
    await bob.join("#lobby")
    client = await plain("张三")
    await client.send_raw(b"caf\xe9 au lait\n")
    assert await client.next() == (
        "! Your line was not valid UTF-8; the bad bytes are shown as \ufffd. "
        "Is your terminal set to UTF-8?"
    )
    assert await client.next() == "#lobby <张三> caf\ufffd au lait"
    # The bytes on the IRC side are valid UTF-8 (the test client would hide bad ones).
    raw = b""
    while b" PRIVMSG " not in raw:
        raw = await asyncio.wait_for(bob.reader.readline(), 5)
    assert raw.endswith("PRIVMSG #lobby :caf\ufffd au lait\r\n".encode())
    await still_chatting(client)


async def test_terminal_editing_and_control_characters(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    bob = await connect("bob")
    await bob.join("#lobby")
    client = await plain("张三")
    await client.send_raw(b"helo\x08lo worr\x7fld\x1b[D \x01ACTION x\x01\x07\r\n")
    assert await client.next() == "#lobby <张三> hello world ACTION x"
    msg = await bob.expect(r" PRIVMSG #lobby ")
    assert msg.params == ("#lobby", "hello world ACTION x")


async def test_the_shutdown_notice_reaches_a_netcat_user() -> None:
    async with running_server() as server, plain_clients_of(server) as plain:
        client = await plain("张三")
        await server.stop()
        rest = await client.at_eof()
        assert rest[-1].endswith("] * Server shutting down. Goodbye."), rest


async def test_the_registration_timeout_applies_at_the_nickname_prompt() -> None:
    async with running_server(registration_timeout=1.5) as server, plain_clients_of(
        server
    ) as plain:
        client = await plain()
        await client.expect(r"^Pick a nickname:$")
        rest = await client.at_eof()
        assert rest[-1].endswith("] * Registration timeout. Goodbye."), rest
