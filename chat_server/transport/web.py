"""The web port's connection: the chat port's Connection, framing HTTP and WebSocket.

Owns only what differs from a line connection: its framer is a WebWire (one HTTP
request, then WebSocket messages), what the session writes is framed as one WebSocket
message per IRC line, and a WebSocket ends with a close frame saying why. Flood
control, the send-queue bound, timeouts, admission and TLS are the base class's, so
every kind of client meets one limits policy. Knows nothing of IRC or of which paths
exist (the web session decides). Must not import the hub.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from chat_server.protocol.framing import Overlong
from chat_server.protocol.web import (
    CLOSE_NORMAL,
    HttpRequest,
    HttpResponse,
    PeerClosed,
    WebWire,
    WireFailure,
)
from chat_server.transport.connection import Connection
from chat_server.transport.tls import Certificates

if TYPE_CHECKING:
    from chat_server.transport.server import Listener


class WebConnection(Connection):
    __slots__ = ("_close_code", "wire")

    def __init__(self, listener: Listener, tls: Certificates | None = None,
                 max_body: int = 64 * 1024) -> None:
        super().__init__(listener, tls)
        self.wire = WebWire(max_body, listener.limits.max_line_bytes)
        self._framer = self.wire
        self._close_code = CLOSE_NORMAL

    # -- reading ------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Pongs and the answer to a close go out at once, unframed (they are frames).
        control = self.wire.output()
        if control:
            Connection.write(self, control)

    def _dispatch(self, item: object) -> None:
        if isinstance(item, bytes | Overlong):
            super()._dispatch(item)
        elif isinstance(item, HttpRequest):
            self._call_session("on_request", item)
        elif isinstance(item, WireFailure):
            if item.response is not None:
                Connection.write(self, self.wire.respond(item.response))
            self._close_code = item.code
            self.drop(item.reason)
        elif isinstance(item, PeerClosed) and self.transport is not None:
            # Answered in data_received; the rest is a FIN's: the session hears
            # connection_lost from the transport.
            self.closing_by_peer()

    def closing_by_peer(self) -> None:
        transport = self.transport
        if transport is None:
            return
        control = self.wire.output()
        if control:
            transport.write(self._encrypt(control))
        transport.close()

    # -- writing ------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.wire.websocket:
            data = self.wire.frame(data)
            if not data:
                return
        super().write(data)

    def outbox(self) -> None:
        """None: every write is framed on its own (a WebSocket message a line)."""
        return None

    def respond(self, response: HttpResponse, close: bool = True) -> None:
        """Answer the request (once) and, unless the caller is closing with a reason of
        its own, close once it is written: one request a connection."""
        if self.wire.answered:
            return
        Connection.write(self, self.wire.respond(response))
        if close:
            self.close("HTTP response sent")

    def accept_websocket(self, request: HttpRequest, subprotocol: str | None) -> None:
        """Switch to WebSocket (ValueError for an invalid upgrade request)."""
        # Clients wait for the 101 before sending; anything sent behind the request
        # anyway is held by the wire and read with the next bytes.
        Connection.write(self, self.wire.accept(request, subprotocol))

    def _encrypt(self, data: bytes) -> bytes:
        layer = self._tls
        if layer is None:
            return data
        layer.send(data)
        return layer.output()

    def _finish(self, transport: asyncio.Transport) -> None:
        # The close frame carries the reason a browser shows (CloseEvent.reason).
        goodbye = self.wire.close(self.close_reason, self._close_code)
        if goodbye and not transport.is_closing():
            transport.write(self._encrypt(goodbye))
        super()._finish(transport)
