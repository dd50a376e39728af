"""The web port's framing on its own: bytes in, requests, lines and refusals out."""

from __future__ import annotations

import pytest
import wsproto
import wsproto.events as ws

from chat_server.protocol.framing import Overlong
from chat_server.protocol.web import (
    HttpRequest,
    HttpResponse,
    PeerClosed,
    WebWire,
    WireFailure,
    choose_subprotocol,
)

UPGRADE = (b"GET /irc HTTP/1.1\r\nHost: chat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n")


def test_a_request_arriving_in_pieces_is_one_request_with_its_body() -> None:
    wire = WebWire(max_body=100, max_message=512)
    raw = b"POST /api/rooms/x/messages HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
    items = [item for n in range(len(raw)) for item in wire.feed(raw[n:n + 1])]
    assert len(items) == 1 and isinstance(items[0], HttpRequest)
    assert (items[0].method, items[0].path, items[0].body) == ("POST", "/api/rooms/x/messages",
                                                              b"hello")
    # One request a connection: a pipelined second one is not read.
    assert wire.feed(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n") == []
    answer = wire.respond(HttpResponse(201, b"{}"))
    assert answer.startswith(b"HTTP/1.1 201 Created\r\n") and b"connection: close" in answer.lower()


def test_expect_100_continue_is_answered_at_once() -> None:
    wire = WebWire(max_body=4096, max_message=512)
    assert wire.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n"
                     b"Expect: 100-continue\r\n\r\n") == []
    assert wire.output().startswith(b"HTTP/1.1 100 ")


@pytest.mark.parametrize(("raw", "status"), [
    (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", 413),
    (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + b"20\r\n" + b"x" * 32
     + b"\r\n" + b"50\r\n" + b"y" * 80 + b"\r\n", 413),
    (b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 20000, 431),
    (b"\x16\x03\x01\x02\x00 hello from a TLS client\r\n\r\n", 400),
])
def test_what_breaks_the_bounds_or_http_is_refused_with_a_status(raw: bytes, status: int) -> None:
    wire = WebWire(max_body=100, max_message=512)
    items = wire.feed(raw)
    assert len(items) == 1 and isinstance(items[0], WireFailure)
    assert items[0].response is not None and items[0].response.status == status
    answer = wire.respond(items[0].response)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()) and b'{"error": ' in answer


def client_upgrade(wire: WebWire) -> wsproto.WSConnection:
    client = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    raw = client.send(ws.Request(host="chat", target="/irc", subprotocols=["text.ircv3.net"]))
    (request,) = wire.feed(raw)
    assert isinstance(request, HttpRequest) and request.upgrade
    client.receive_data(wire.accept(request, "text.ircv3.net"))
    accepted = list(client.events())
    assert isinstance(accepted[0], ws.AcceptConnection)
    assert accepted[0].subprotocol == "text.ircv3.net"
    return client


def test_messages_are_lines_and_lines_are_messages() -> None:
    wire = WebWire(max_body=100, max_message=20)
    client = client_upgrade(wire)
    data = (client.send(ws.Message(data="NICK a\r\n")) + client.send(ws.Message(data="x" * 30))
            + client.send(ws.Message(data="", message_finished=True))
            + client.send(ws.Message(data="PING 1", message_finished=False))
            + client.send(ws.Message(data="23", message_finished=True)))
    assert wire.feed(data) == [b"NICK a", Overlong(20), b"PING 123"]
    client.receive_data(wire.frame(b":s 001 a :hi\r\n:s PONG s :123\r\n"))
    assert [e.data for e in client.events() if isinstance(e, ws.TextMessage)] == [
        ":s 001 a :hi", ":s PONG s :123"]
    client.receive_data(wire.frame(b":x PRIVMSG #a :\xff broken\r\n"))
    (text,) = [e.data for e in client.events() if isinstance(e, ws.TextMessage)]
    assert text == ":x PRIVMSG #a :\ufffd broken"


def test_a_close_is_answered_and_reported() -> None:
    wire = WebWire(max_body=100, max_message=512)
    client = client_upgrade(wire)
    assert wire.feed(client.send(ws.CloseConnection(code=1001, reason="tab closed"))) == [
        PeerClosed(1001)]
    client.receive_data(wire.output())
    assert any(isinstance(e, ws.CloseConnection) for e in client.events())


def test_a_missing_key_is_not_an_upgrade() -> None:
    wire = WebWire(max_body=100, max_message=512)
    (request,) = wire.feed(UPGRADE.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b""))
    assert isinstance(request, HttpRequest)
    with pytest.raises(ValueError):
        wire.accept(request, None)


@pytest.mark.parametrize(("offered", "chosen"), [
    ("", (True, None)),
    ("text.ircv3.net", (True, "text.ircv3.net")),
    ("binary.ircv3.net, text.ircv3.net", (True, "binary.ircv3.net")),
    ("chat, text.ircv3.net", (True, "text.ircv3.net")),
    ("chat", (False, None)),
])
def test_the_clients_order_of_subprotocols_decides(offered: str,
                                                    chosen: tuple[bool, str | None]) -> None:
    assert choose_subprotocol(offered) == chosen

