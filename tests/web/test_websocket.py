"""IRC over WebSocket (IRCv3 WebSocket spec) against the in-process server's web port."""

from __future__ import annotations

import asyncio
import os

import pytest
from support.irc import ClientFactory
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat_server.app import ChatServer

TIMEOUT = 5.0


async def expect(ws: ClientConnection, needle: str, timeout: float = TIMEOUT) -> str | bytes:
    """The next message containing `needle`, failing with what came instead."""
    seen: list[str | bytes] = []
    async with asyncio.timeout(timeout):
        while True:
            try:
                message = await ws.recv()
            except ConnectionClosed as exc:
                raise AssertionError(f"closed ({exc}) waiting for {needle!r}; got {seen}") \
                    from None
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            if needle in text:
                return message
            seen.append(message)


async def closed(ws: ClientConnection,
                 timeout: float = TIMEOUT) -> tuple[list[str], ConnectionClosed]:
    """Everything received until the server closes, and how it closed."""
    got: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            try:
                message = await ws.recv()
            except ConnectionClosed as exc:
                return got, exc
            got.append(message if isinstance(message, str) else message.decode())


async def register(ws: ClientConnection, nick: str) -> None:
    await ws.send(f"NICK {nick}")
    await ws.send(f"USER {nick} 0 * :{nick} in a browser")
    await expect(ws, " 001 ")


async def test_text_subprotocol_registers_and_chats_with_a_tcp_user(
    web_base: str, connect: ClientFactory
) -> None:
    bob = await connect("bob")
    await bob.join("#lobby")
    async with connect_ws(web_base, ["text.ircv3.net"]) as ws:
        assert ws.subprotocol == "text.ircv3.net"
        await register(ws, "wendy")
        await ws.send("JOIN #lobby")
        names = await expect(ws, " 353 ")
        assert isinstance(names, str) and "bob" in names
        # One line a message, without its CRLF.
        assert not names.endswith(("\r", "\n"))
        await ws.send("PRIVMSG #lobby :hello from a browser")
        msg = await bob.expect(r" PRIVMSG #lobby ")
        assert msg.source.startswith("wendy!") and msg.params[-1] == "hello from a browser"
        await bob.send("PRIVMSG #lobby :hi wendy")
        line = await expect(ws, "hi wendy")
        assert line == ":bob!~u@127.0.0.1 PRIVMSG #lobby :hi wendy"


def connect_ws(base: str, subprotocols: list[str] | None, origin: str | None = None,
               path: str = "/irc") -> connect:
    return connect(f"ws://{base}{path}", subprotocols=subprotocols,  # type: ignore[arg-type]
                   origin=origin, open_timeout=TIMEOUT, max_size=None)  # type: ignore[arg-type]


async def test_binary_subprotocol_gets_binary_messages(web_base: str) -> None:
    async with connect_ws(web_base, ["binary.ircv3.net", "text.ircv3.net"]) as ws:
        # The client's first choice is taken.
        assert ws.subprotocol == "binary.ircv3.net"
        await ws.send(b"NICK binny")
        await ws.send(b"USER b 0 * :b")
        welcome = await expect(ws, " 001 ")
        assert isinstance(welcome, bytes) and welcome.startswith(b":roomchat.local 001 binny")


async def test_no_subprotocol_is_text_and_an_unknown_one_is_refused(web_base: str) -> None:
    async with connect_ws(web_base, None) as ws:
        assert ws.subprotocol is None
        await register(ws, "legacy")
        await ws.send("PING :x")
        pong = await expect(ws, "PONG")
        assert isinstance(pong, str)
    with pytest.raises(InvalidStatus) as refused:
        async with connect_ws(web_base, ["chat.example"]):
            pass
    assert refused.value.response.status_code == 400
    assert b"text.ircv3.net" in refused.value.response.body


async def test_origin_allow_list(web_base: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect_ws(web_base, ["text.ircv3.net"], origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    assert b"evil.example" in refused.value.response.body
    # The page's own origin, and one listed in [web] origins, may connect.
    for origin in (f"http://{web_base}", "https://chat.example.org"):
        async with connect_ws(web_base, ["text.ircv3.net"], origin=origin) as ws:
            await register(ws, "o" + str(abs(hash(origin)) % 10000))


async def test_a_flooding_websocket_client_is_cut_off_like_a_tcp_one(
    web_base: str, connect: ClientFactory, server: ChatServer
) -> None:
    watcher = await connect("watcher")
    await watcher.join("#lobby")
    async with connect_ws(web_base, ["text.ircv3.net"]) as ws:
        await register(ws, "flooder")
        await ws.send("JOIN #lobby")
        await expect(ws, " 366 ")
        backlog = server.config.limits.flood_backlog
        # The whole flood in one write, as the TCP flood test sends it: lines that trickle
        # in are read at the flood rate like a paste (reading pauses), never cut off.
        for n in range(backlog * 3):
            ws.protocol.send_text(f"PRIVMSG #lobby :flood {n}".encode())
        ws.transport.write(b"".join(ws.protocol.data_to_send()))
        got, how = await closed(ws)
    assert any(line.startswith("ERROR :Closing Link") and "Excess Flood" in line
               for line in got), got[-3:]
    assert how.rcvd is not None and how.rcvd.reason == "Excess Flood"
    quit_msg = await watcher.expect(r" QUIT ")
    assert quit_msg.source.startswith("flooder!") and quit_msg.params[-1] == "Excess Flood"


async def test_an_overlong_message_is_answered_and_the_connection_kept(
    web_base: str, server: ChatServer
) -> None:
    async with connect_ws(web_base, ["text.ircv3.net"]) as ws:
        await register(ws, "longer")
        await ws.send("PRIVMSG #lobby :" + "x" * (server.config.limits.max_line_bytes + 10))
        await expect(ws, " 417 ")
        await ws.send("PING :still-here")
        await expect(ws, "still-here")


@pytest.mark.parametrize("payload", [
    "PRIVMSG #lobby :hi\r\nPRIVMSG #lobby :forged",
    "PRIVMSG #lobby :hi\nQUIT :forged",
    "PRIVMSG #lobby :hi\0forged",
])
async def test_cr_lf_or_nul_inside_a_message_closes_without_forging_a_line(
    web_base: str, connect: ClientFactory, payload: str
) -> None:
    bob = await connect("bob")
    await bob.join("#lobby")
    async with connect_ws(web_base, ["text.ircv3.net"]) as ws:
        await register(ws, "sneaky")
        await ws.send("JOIN #lobby")
        await expect(ws, " 366 ")
        await ws.send(payload)
        _, how = await closed(ws)
    assert how.rcvd is not None and how.rcvd.code == 1007
    assert "CR, LF or NUL" in how.rcvd.reason
    quit_msg = await bob.expect(r" QUIT ")
    assert quit_msg.source.startswith("sneaky!")
    assert not [line for line in bob.seen if "forged" in line]


async def test_binary_garbage_closes_with_a_reason_and_the_server_goes_on(
    web_base: str, connect: ClientFactory
) -> None:
    async with connect_ws(web_base, ["binary.ircv3.net"]) as ws:
        await ws.send(bytes(range(256)) + os.urandom(300))
        _, how = await closed(ws)
    assert how.rcvd is not None and how.rcvd.code == 1007
    # Broken framing (not a WebSocket frame at all) after the handshake: a protocol error.
    reader, writer = await asyncio.open_connection(*web_base.split(":"))
    writer.write(b"GET /irc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Version: 13\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101 ")
    writer.write(b"\xff\xff\xff\xff garbage that is no frame")
    rest = await asyncio.wait_for(reader.read(), TIMEOUT)
    # The IRC goodbye, then a close frame (0x88, unmasked) with code 1002 and a reason.
    assert b"ERROR :Closing Link" in rest, rest
    close = rest[rest.rindex(b"\x88"):]
    assert close[1] == len(close) - 2 and close[2:4] == (1002).to_bytes(2, "big"), rest
    assert b"WebSocket error" in close
    writer.close()
    alive = await connect("alive")
    await alive.send("PING :ok")
    await alive.expect("PONG")


async def test_a_browser_closing_its_socket_quits_like_a_dropped_connection(
    web_base: str, connect: ClientFactory
) -> None:
    bob = await connect("bob")
    await bob.join("#lobby")
    async with connect_ws(web_base, ["text.ircv3.net"]) as ws:
        await register(ws, "leaver")
        await ws.send("JOIN #lobby")
        await expect(ws, " 366 ")
        # WebSocket pings are answered by the server itself.
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, TIMEOUT)
    quit_msg = await bob.expect(r" QUIT ")
    assert quit_msg.source.startswith("leaver!")
    assert quit_msg.params[-1] == "Connection closed"
