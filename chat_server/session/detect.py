"""Choosing a connection's dialect: IRC or plain text, from its first line or its silence.

Owns the choice and the hand-over. An IRC client speaks first, and its first line is a
registration command in capitals; a person at netcat either types something else or
waits, and gets the plain greeting after a second of silence (docs/PLAIN-MODE.md). Until
the choice the detector is the connection's session and the hub's peer (so a shutdown
or a timeout still reaches it); after it, it passes everything to the chosen session.
An HTTP request line ("GET / HTTP/1.1": a browser or curl on the wrong port) gets a
short HTTP answer naming the web page's address, not a nickname prompt.
Knows the hub and the sessions; schedules time only through its link, never asyncio.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import Protocol

from chat_server.hub.commands import COMMANDS
from chat_server.hub.events import Closing, Event
from chat_server.hub.hub import Hub
from chat_server.protocol.message import Message
from chat_server.session.base import Link
from chat_server.session.irc import IrcSession
from chat_server.session.plain import PlainSession

# "A person who types nothing sees the plain-mode greeting within a second of
#  connecting" (docs/PLAIN-MODE.md).
SILENCE_SECONDS = 1.0

# First words that mean IRC: the commands of the hub's table (CAP, PASS, NICK, USER,
# PING, ... but also JOIN from a bot that skips ahead, which the hub then answers in
# IRC) and the lines proxies put in front of a client. Only the first line before the
# greeting is judged, and a person rarely types a whole line within that second, let
# alone a capitalised command name.
IRC_OPENERS = frozenset(COMMANDS) | {"PROXY", "WEBIRC"}


# A browser or curl pointed at the chat port: "GET / HTTP/1.1" (RFC 9112 3).
_HTTP_REQUEST_LINE = re.compile(rb"[A-Z]{3,10} \S+ HTTP/1\.[01]\r?")


def speaks_http(first_line: bytes) -> bool:
    return _HTTP_REQUEST_LINE.fullmatch(first_line) is not None


def http_answer(web_url: str) -> bytes:
    """What a browser gets on the chat port: where to go instead, not a nick prompt."""
    where = (f"The web page is at {web_url}" if web_url
             else "This server has no web page ([web] listen is off)")
    body = (f"This is roomchat's chat port, for IRC clients and netcat. {where}\n").encode()
    return (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\n\r\n" + body)


def speaks_irc(first_line: bytes) -> bool:
    """True when the first word of the first non-empty line is an IRC opener.

    Case matters: "NICK bob" is IRC, "nick bob" is a person. A bare opener ("NICK",
    which IRC answers with "no nickname given") counts too: an IRC client must never
    be greeted in plain text.
    """
    word = first_line.lstrip(b" ").partition(b" ")[0]
    return word.decode("ascii", "replace") in IRC_OPENERS


class Timer(Protocol):
    def cancel(self) -> None: ...


class TimedLink(Link, Protocol):
    """A link that can also call back later (the transport's Connection)."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer: ...

    def hand_over(self, session: Session) -> None:
        """Make `session` the one the connection drives from now on."""


class Session(Protocol):
    """The chosen dialect, as the detector drives it (the transport's Session)."""

    @property
    def ready(self) -> bool: ...

    @property
    def label(self) -> str: ...

    def on_line(self, raw: bytes) -> None: ...

    def on_overlong(self) -> None: ...

    def on_idle(self) -> None: ...

    def terminate(self, reason: str) -> None: ...

    def connection_lost(self, reason: str) -> None: ...

    @property
    def busy(self) -> bool: ...


class Detector:
    """The session of a connection whose dialect is not known yet, then its proxy."""

    __slots__ = ("_timer", "default_room", "hub", "inner", "link", "user", "web_url")

    # One form for every undecided connection: they share nothing but the goodbye.
    form: Hashable = "undecided"

    def __init__(self, hub: Hub, link: TimedLink, default_room: str,
                 web_url: str = "") -> None:
        self.hub = hub
        # The web page's address, for an HTTP request that reached this port.
        self.web_url = web_url
        self.link = link
        self.default_room = default_room
        self.inner: Session | None = None
        # Known to the hub while undecided, so that shutdown says goodbye here too.
        self.user = hub.connect(self, link.remote_host)
        self._timer: Timer | None = link.call_later(SILENCE_SECONDS, self._silence)

    # -- choosing -------------------------------------------------------------------

    def _silence(self) -> None:
        self._timer = None
        if self.inner is None:
            self._choose(irc=False)

    def _choose(self, irc: bool) -> Session:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        session: Session
        if irc:
            session = IrcSession(self.hub, self.link)
        else:
            session = PlainSession(self.hub, self.link, self.default_room)
        self.inner = session
        # The chosen session is the hub's peer now; the stand-in leaves without a word
        # (it never registered, so nobody else hears of it, and close() is a no-op).
        self.hub.disconnect(self.user, "dialect chosen")
        # From here on the connection talks to the chosen session directly, and this
        # detector (with its stand-in user) can be freed.
        self.link.hand_over(session)
        return session

    # -- Session (called by the transport) ----------------------------------------

    @property
    def ready(self) -> bool:
        return self.inner is not None and self.inner.ready

    @property
    def label(self) -> str:
        return self.inner.label if self.inner is not None else "-"

    def on_line(self, raw: bytes) -> None:
        inner = self.inner
        if inner is None:
            if not raw.strip():
                return  # empty lines decide nothing
            if speaks_http(raw):
                self.link.write(http_answer(self.web_url))
                self.close("HTTP request on the chat port")
                return
            inner = self._choose(speaks_irc(raw))
        inner.on_line(raw)

    def on_overlong(self) -> None:
        # No IRC client opens with an overlong line: a person pasted something.
        (self.inner or self._choose(irc=False)).on_overlong()

    def on_idle(self) -> None:
        if self.inner is not None:
            self.inner.on_idle()

    def terminate(self, reason: str) -> None:
        if self.inner is not None:
            self.inner.terminate(reason)
        else:
            self.hub.disconnect(self.user, reason, tell_user=reason)

    def connection_lost(self, reason: str) -> None:
        if self.inner is not None:
            self.inner.connection_lost(reason)
        else:
            self.hub.disconnect(self.user, reason)

    @property
    def busy(self) -> bool:
        return self.inner is not None and self.inner.busy

    # -- Peer (called by the hub while undecided) -----------------------------------

    def render(self, event: Event) -> bytes:
        if isinstance(event, Closing):
            # IRC's goodbye, which a person reads as well: an IRC client that has not
            # spoken yet must never get a plain line.
            return Message("ERROR", (f"Closing Link: {self.user.host} ({event.reason})",)
                           ).to_bytes()
        return b""

    def write(self, data: bytes) -> None:
        self.link.write(data)

    def close(self, reason: str) -> None:
        if self.inner is not None:
            return  # the stand-in user was let go at the hand-over; the link is in use
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.link.close(reason)
