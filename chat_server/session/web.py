"""The web port's requests: the page, IRC over WebSocket, and posting from scripts.

Owns what each request gets. `GET /` and its files come from the package (nothing is
fetched at run time); a WebSocket upgrade from an allowed Origin becomes an
IrcSession over the same connection (the IRCv3 WebSocket spec: subprotocols
text.ircv3.net and binary.ircv3.net); `POST /api/rooms/ROOM/messages` with a bearer
token posts through the Posters. Everything else is a JSON error. Knows the hub and
the sessions; writes through its link, never a socket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from chat_server.hub.hub import Hub
from chat_server.protocol import names
from chat_server.protocol.message import MAX_REST_BYTES
from chat_server.protocol.web import (
    HttpRequest,
    HttpResponse,
    choose_subprotocol,
    json_error,
)
from chat_server.session.detect import Session, TimedLink
from chat_server.session.irc import IrcSession
from chat_server.session.poster import Posters
from chat_server.tokens import Tokens

# What the page may do: only its own scripts, styles and WebSocket; no inline script,
# so a message that smuggled markup in could not run even if it were inserted as HTML.
PAGE_POLICY = ("default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
               "base-uri 'none'; frame-ancestors 'none'; form-action 'none'")

# A request the transport drops is answered with the status that fits its reason.
_DROP_STATUS = {"Registration timeout": 408, "Excess Flood": 429}

API_PREFIX = "/api/rooms/"
API_SUFFIX = "/messages"

# The longest text one posted line may carry: a PRIVMSG's room and prefix come out of
# the 512 bytes too.
MAX_POST_LINE = MAX_REST_BYTES - 2 - 110


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str


@dataclass(slots=True)
class Site:
    """Everything the web port's sessions share, made once by the app."""

    posters: Posters
    tokens: Tokens
    files: Mapping[str, StaticFile]
    # Allowed Origins beside the page's own; "*" allows any.
    origins: frozenset[str]


class WebLink(TimedLink, Protocol):
    """The web connection as its session sees it."""

    def respond(self, response: HttpResponse, close: bool = True) -> None: ...

    def accept_websocket(self, request: HttpRequest, subprotocol: str | None) -> None: ...


class WebSession:
    """A web connection's request; after a WebSocket upgrade, its IrcSession's proxy."""

    __slots__ = ("hub", "inner", "link", "site")

    def __init__(self, hub: Hub, link: WebLink, site: Site) -> None:
        self.hub = hub
        self.link = link
        self.site = site
        self.inner: Session | None = None

    # -- Session (called by the transport) -----------------------------------------

    @property
    def ready(self) -> bool:
        # A request counts as registering: one that never finishes meets the
        # registration timeout.
        return False

    @property
    def label(self) -> str:
        return "web"

    def on_line(self, raw: bytes) -> None:
        """Never called: until the upgrade the wire yields requests, then the
        IrcSession is the connection's session."""

    def on_overlong(self) -> None:
        """As on_line."""

    def on_idle(self) -> None:
        """Not ready, so never idle: the registration timeout applies instead."""

    def terminate(self, reason: str) -> None:
        """The transport refuses or drops this connection (admission limits, a request
        that never finishes, a flood of them): say why in HTTP, then it closes."""
        status = _DROP_STATUS.get(reason, 503)
        self.link.respond(json_error(status, reason), close=False)

    def connection_lost(self, reason: str) -> None:
        """As terminate."""

    @property
    def busy(self) -> bool:
        """A request is answered as it arrives: nothing outlives it."""
        return False

    # -- requests -----------------------------------------------------------------

    def on_request(self, request: HttpRequest) -> None:
        if request.upgrade:
            self._websocket(request)
        elif request.path.startswith(API_PREFIX):
            self.link.respond(self._post(request))
        else:
            self.link.respond(self._static(request))

    def _static(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return json_error(405, f"{request.method} is not allowed here",
                              ("Allow", "GET, HEAD"))
        path = "/index.html" if request.path == "/" else request.path
        found = self.site.files.get(path)
        if found is None:
            return json_error(404, f"nothing at {request.path}")
        body = b"" if request.method == "HEAD" else found.body
        return HttpResponse(200, body, found.content_type, (
            ("Cache-Control", "no-cache"),
            ("Content-Security-Policy", PAGE_POLICY),
            ("Referrer-Policy", "no-referrer"),
        ))

    def _websocket(self, request: HttpRequest) -> None:
        if not self._origin_allowed(request):
            self.link.respond(json_error(
                403, f"origin {request.header('origin')} may not connect ([web] origins)"))
            return
        ok, subprotocol = choose_subprotocol(request.header("sec-websocket-protocol"))
        if not ok:
            self.link.respond(json_error(
                400, "offer the subprotocol text.ircv3.net or binary.ircv3.net"))
            return
        try:
            self.link.accept_websocket(request, subprotocol)
        except ValueError as exc:
            self.link.respond(json_error(400, f"bad WebSocket request: {exc}"))
            return
        session = IrcSession(self.hub, self.link)
        self.inner = session
        self.link.hand_over(session)

    def _origin_allowed(self, request: HttpRequest) -> bool:
        """Same origin, an origin listed in [web] origins, or no Origin at all.

        A browser always sends Origin with a WebSocket; a client that sends none is a
        program, which could forge any Origin anyway. The check keeps other sites'
        pages from using a visitor's browser to chat in their name.
        """
        origin = request.header("origin")
        if not origin:
            return True
        allowed = self.site.origins
        if "*" in allowed or origin.rstrip("/") in allowed:
            return True
        parts = urlsplit(origin)
        host = request.header("host")
        return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host

    # -- posting ------------------------------------------------------------------

    def _post(self, request: HttpRequest) -> HttpResponse:
        room_part = request.path[len(API_PREFIX):]
        if not room_part.endswith(API_SUFFIX) or "/" in room_part[:-len(API_SUFFIX)]:
            return json_error(404, f"nothing at {request.path}; "
                                   f"post to {API_PREFIX}ROOM{API_SUFFIX}")
        if request.method != "POST":
            return json_error(405, "POST messages here", ("Allow", "POST"))
        room = unquote(room_part[:-len(API_SUFFIX)])
        if room and room[0] not in "#&":
            room = "#" + room
        scheme, _, secret = request.header("authorization").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return json_error(401, "send Authorization: Bearer TOKEN",
                              ("WWW-Authenticate", 'Bearer realm="roomchat"'))
        token = self.site.tokens.find(secret.strip())
        if token is None:
            return json_error(401, "unknown token",
                              ("WWW-Authenticate", 'Bearer error="invalid_token"'))
        if not names.is_valid_room(room):
            return json_error(404, f"{room!r} is not a room name")
        lines = self._lines(request)
        if isinstance(lines, HttpResponse):
            return lines
        outcome = self.site.posters.post(token, room, lines)
        if outcome.status == 201:
            body = json.dumps({"room": room, "nick": token.nick, "posted": outcome.posted})
            return HttpResponse(201, body.encode() + b"\n")
        headers = (("Retry-After", str(outcome.retry_after)),) if outcome.retry_after else ()
        return json_error(outcome.status, outcome.error, *headers)

    @staticmethod
    def _lines(request: HttpRequest) -> list[str] | HttpResponse:
        """The body's messages: text/plain one a line, or JSON {"text": "..."}."""
        kind = request.header("content-type").partition(";")[0].strip().lower()
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return json_error(400, "the body is not UTF-8")
        if kind == "application/json":
            try:
                data = json.loads(text)
            except ValueError:
                return json_error(400, "the body is not valid JSON")
            if not isinstance(data, dict) or not isinstance(data.get("text"), str):
                return json_error(400, 'send JSON {"text": "..."}')
            text = data["text"]
        elif kind not in ("text/plain", "application/x-www-form-urlencoded", ""):
            # curl -d sends the form type: its body is taken as the text it is.
            return json_error(400, f"send text/plain or application/json, not {kind}")
        if "\0" in text:
            return json_error(400, "the text contains a NUL byte")
        # Every kind of line break ends a message: none may reach the IRC line.
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            return json_error(400, "nothing to post: the text is empty")
        for number, line in enumerate(lines, 1):
            if len(line.encode()) > MAX_POST_LINE:
                return json_error(413, f"line {number} is longer than {MAX_POST_LINE} bytes")
        return lines
