"""HTTP and WebSocket framing for the web port: bytes in, requests and IRC lines out.

Sans-I/O, like the line framer it stands in for: h11 parses one HTTP request and
writes its response; after a WebSocket upgrade, wsproto turns messages into IRC lines
and lines into messages (the IRCv3 WebSocket spec: one line per message, no CR or LF).
Every size has a bound: headers (h11's), the request body, one message. Owns no
policy (which paths exist, which origins may connect): the session decides. Must not
import beyond the protocol package and the two libraries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus

import h11
import wsproto
import wsproto.events as ws
from wsproto.connection import ConnectionState
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from chat_server.protocol.framing import Overlong

# "We define two WebSocket subprotocols: binary.ircv3.net and text.ircv3.net. Servers
#  implementing this specification MUST support binary.ircv3.net and SHOULD support
#  text.ircv3.net." Listed in no order: the client's order of preference decides.
SUBPROTOCOLS = ("binary.ircv3.net", "text.ircv3.net")

# Request line and headers together; h11's own default, named here so that it is seen.
MAX_HEAD_BYTES = 16 * 1024

# RFC 6455 7.4.1 close codes, each for one kind of ending.
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
# RFC 6455 7.1.6: a close reason is at most 123 bytes of UTF-8.
MAX_CLOSE_REASON = 123


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One complete request: header names lowercased, the body read whole (bounded)."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str:
        """The first value of header `name` (lowercase), or ""."""
        return next((value for key, value in self.headers if key == name), "")

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def upgrade(self) -> bool:
        """True when the client asks for a WebSocket (RFC 6455 4.1)."""
        return self.method == "GET" and "websocket" in self.header("upgrade").lower()


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def json_error(status: int, message: str, *headers: tuple[str, str]) -> HttpResponse:
    """The API's only error shape: {"error": "..."}."""
    body = json.dumps({"error": message}).encode() + b"\n"
    return HttpResponse(status, body, "application/json", headers)


@dataclass(frozen=True, slots=True)
class WireFailure:
    """The client broke HTTP or WebSocket framing: answer `response` (HTTP) or close
    with `code` (WebSocket), and end the connection for `reason`."""

    reason: str
    response: HttpResponse | None = None
    code: int = CLOSE_PROTOCOL_ERROR


@dataclass(frozen=True, slots=True)
class PeerClosed:
    """The client sent a WebSocket close: it is done, as after a FIN."""

    code: int | None


Item = HttpRequest | bytes | Overlong | WireFailure | PeerClosed


class WebWire:
    """One connection's HTTP request, then (after `accept`) its WebSocket messages.

    `feed` returns what arrived, in order; `output` hands back what wsproto answers on
    its own (pongs, the echo of a close), to be written at once.
    """

    __slots__ = ("_body", "_h11", "_message", "_out", "_overlong", "_request", "_text", "_ws",
                 "answered", "done", "max_body", "max_message")

    def __init__(self, max_body: int, max_message: int) -> None:
        self.max_body = max_body
        self.max_message = max_message
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._ws: wsproto.WSConnection | None = None
        self._text = True
        self._message = bytearray()
        self._overlong = False
        self._out = bytearray()
        # The request was read whole or failed: anything more is not read.
        self.done = False
        # A response was written (one a connection).
        self.answered = False

    @property
    def websocket(self) -> bool:
        return self._ws is not None

    # -- reading ------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Item]:
        if self._ws is not None:
            return self._feed_ws(self._ws, data)
        if self.done:
            return []
        try:
            return self._feed_http(data)
        except h11.RemoteProtocolError as exc:
            self.done = True
            status = exc.error_status_hint
            message = "request headers too large" if status == 431 else f"bad request: {exc}"
            return [WireFailure("Bad HTTP request", json_error(status, message))]

    def _feed_http(self, data: bytes) -> list[Item]:
        conn = self._h11
        conn.receive_data(data)
        body = self._body
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                return []
            if isinstance(event, h11.Request):
                self._request = event
                length = _content_length(event)
                if length > self.max_body:
                    return self._too_large()
                if conn.they_are_waiting_for_100_continue:
                    # curl asks before sending a body over 1 KiB, and waits a second
                    # for the answer if none comes.
                    self._out += conn.send(h11.InformationalResponse(status_code=100, headers=[]))
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.max_body:
                    return self._too_large()
            elif isinstance(event, h11.EndOfMessage) and self._request is not None:
                self.done = True
                request = self._request
                return [HttpRequest(
                    request.method.decode("ascii", "replace"),
                    request.target.decode("ascii", "replace"),
                    tuple((k.decode("ascii", "replace").lower(), v.decode("latin-1"))
                          for k, v in request.headers),
                    bytes(body),
                )]
            else:
                # ConnectionClosed or PAUSED before a whole request: nothing to answer.
                self.done = True
                return []

    def _too_large(self) -> list[Item]:
        self.done = True
        return [WireFailure("Request body too large", json_error(
            413, f"request body is larger than {self.max_body} bytes"))]

    def _feed_ws(self, conn: wsproto.WSConnection, data: bytes) -> list[Item]:
        items: list[Item] = []
        try:
            if data:
                conn.receive_data(data)
            for event in conn.events():
                if isinstance(event, ws.TextMessage | ws.BytesMessage):
                    self._take_message(event, items)
                elif isinstance(event, ws.Ping):
                    self._out += conn.send(event.response())
                elif isinstance(event, ws.CloseConnection):
                    if conn.state is ConnectionState.OPEN:
                        # Not the client's close but wsproto's verdict on broken framing
                        # (or text that is not UTF-8): ours to send, with its code.
                        items.append(WireFailure(f"WebSocket error: {event.reason}"[:100],
                                                 code=event.code))
                        break
                    if conn.state is ConnectionState.REMOTE_CLOSING:
                        self._out += conn.send(event.response())
                    items.append(PeerClosed(event.code))
                    break
        except (RemoteProtocolError, LocalProtocolError) as exc:
            items.append(WireFailure(f"WebSocket error: {exc}"[:100],
                                     code=CLOSE_PROTOCOL_ERROR))
        return items

    def _take_message(self, event: ws.TextMessage | ws.BytesMessage,
                      items: list[Item]) -> None:
        chunk = event.data.encode() if isinstance(event.data, str) else bytes(event.data)
        if not self._overlong:
            if len(self._message) + len(chunk) > self.max_message:
                # Like an overlong line: answered once, the rest of the message dropped.
                self._message.clear()
                self._overlong = True
                items.append(Overlong(self.max_message))
            else:
                self._message += chunk
        if not event.message_finished:
            return
        line = bytes(self._message)
        self._message.clear()
        if self._overlong:
            self._overlong = False
            return
        # "servers and clients MUST NOT include trailing \r or \n characters in the
        #  message": tolerated at the end (older clients send them), never inside, where
        #  they would cut the message into two lines the client did not send as such.
        line = line.rstrip(b"\r\n")
        if b"\r" in line or b"\n" in line or b"\0" in line:
            items.append(WireFailure("Malformed message: CR, LF or NUL inside a line",
                                     code=CLOSE_INVALID_DATA))
        elif line:
            items.append(line)

    def output(self) -> bytes:
        out, self._out = bytes(self._out), bytearray()
        return out

    # -- writing ------------------------------------------------------------------

    def respond(self, response: HttpResponse) -> bytes:
        """The response's bytes; the connection closes after it (one request each)."""
        self.done = True
        self.answered = True
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Connection", "close"),
            ("X-Content-Type-Options", "nosniff"),
            *response.headers,
        ]
        conn = self._h11
        if conn.our_state is not h11.SEND_RESPONSE:
            # A failure before the request was whole: h11 cannot write for it.
            return _raw_response(response.status, headers, response.body)
        try:
            head = h11.Response(status_code=response.status, headers=headers,
                                reason=_reason(response.status))
            return (conn.send(head)
                    + (conn.send(h11.Data(data=response.body)) or b"")
                    + (conn.send(h11.EndOfMessage()) or b""))
        except h11.LocalProtocolError:
            return _raw_response(response.status, headers, response.body)

    def accept(self, request: HttpRequest, subprotocol: str | None) -> bytes:
        """The 101 answer taking this connection to WebSocket; ValueError if the
        upgrade request is not a valid one (missing key, wrong version)."""
        conn = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        headers = [(k.encode(), v.encode("latin-1")) for k, v in request.headers]
        try:
            conn.initiate_upgrade_connection(headers, request.target)
            accepted = conn.send(ws.AcceptConnection(subprotocol=subprotocol))
        except (RemoteProtocolError, LocalProtocolError) as exc:
            raise ValueError(str(exc)) from None
        self._ws = conn
        self.answered = True
        self._text = subprotocol != "binary.ircv3.net"
        trailing, _closed = self._h11.trailing_data
        if trailing:
            conn.receive_data(bytes(trailing))
        return accepted

    def frame(self, data: bytes) -> bytes:
        """IRC lines (CRLF-terminated, one or more) as one WebSocket message each."""
        conn = self._ws
        if conn is None or conn.state is not ConnectionState.OPEN:
            return b""
        out = bytearray()
        for line in data.split(b"\r\n"):
            if not line:
                continue
            if self._text:
                # "Servers MUST NOT relay non-UTF-8 content to clients using text
                #  messages ... MAY replace non-UTF-8 bytes with U+FFFD."
                out += conn.send(ws.Message(data=line.decode("utf-8", "replace")))
            else:
                out += conn.send(ws.Message(data=line))
        return bytes(out)

    def close(self, reason: str, code: int = CLOSE_NORMAL) -> bytes:
        """The WebSocket close frame saying `reason`; b"" before the upgrade or after it."""
        conn = self._ws
        if conn is None or conn.state is not ConnectionState.OPEN:
            return b""
        text = reason.encode()[:MAX_CLOSE_REASON].decode("utf-8", "ignore")
        return conn.send(ws.CloseConnection(code=code, reason=text))


def choose_subprotocol(offered: str) -> tuple[bool, str | None]:
    """Which of the client's Sec-WebSocket-Protocol values to accept.

    "The server MUST accept any subprotocol it supports, respecting the client's order
    of preference." Returns (acceptable, choice): a client offering only protocols we
    do not speak is refused; one offering none gets text (the spec leaves that
    fallback to the server, and browsers' legacy clients expect text).
    """
    wanted = [p.strip() for p in offered.split(",") if p.strip()]
    if not wanted:
        return True, None
    for protocol in wanted:
        if protocol in SUBPROTOCOLS:
            return True, protocol
    return False, None


def _content_length(request: h11.Request) -> int:
    for name, value in request.headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _raw_response(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} {_reason(status)}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers)
    return head.encode("latin-1") + b"\r\n" + body
