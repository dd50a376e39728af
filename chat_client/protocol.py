"""The client side of IRC, sans-I/O: bytes in, events out, bytes to send.

Owns registration (CAP LS 302 negotiation, SASL SCRAM-SHA-256 or PLAIN, PASS, nick
collisions), logging in to an account afterwards (/register, /login),
PING/PONG and lag, ISUPPORT, the mapping of IRC lines onto `events`, and the history
conversation of IRCv3 draft/chathistory: which request to send on join and after a
reconnect, at most one request in flight per target, the assembly of each chathistory
batch into one event, and following a long gap page by page. It keeps no sockets and
never awaits, so tests drive it with plain calls. Must not import asyncio, the client
state, or prompt_toolkit; from the server it may import only `chat_server.protocol`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scramp import ScramClient, ScramException

from chat_client import events as ev
from chat_server.protocol.errors import ProtocolViolation
from chat_server.protocol.message import MAX_LINE_BYTES, Message, parse_line, split_text
from chat_server.protocol.names import fold
from chat_server.protocol.sasl import (
    ResponseReader,
    SaslError,
    encode_plain,
    encode_response,
)

# Capabilities we ask for when offered. chathistory replays what we missed; the two
# names cover servers that have and have not ratified the draft.
WANTED_CAPS = frozenset(
    {
        "server-time",
        "echo-message",
        "message-tags",
        "batch",
        "multi-prefix",
        "away-notify",
        "chathistory",
        "draft/chathistory",
    }
)
HISTORY_CAPS = frozenset({"chathistory", "draft/chathistory"})
# Lines per CHATHISTORY request: a screenful or two. The server's ISUPPORT
# CHATHISTORY=<max> lowers it ("the maximum number of messages a client can request in
# a single command"; 0 means no maximum).
DEFAULT_HISTORY_PAGE = 50
# After a reconnect, catching up stops after this many lines (more would not fit in
# the scrollback anyway).
DEFAULT_CATCH_UP_MAX = 2000
# RFC 1459 2.3: 512 bytes per line including CRLF; we do not know how long the server
# will make our own "nick!user@host" prefix, so leave room for a long host.
LINE_BUDGET = 512 - 2
HOST_ALLOWANCE = 64
# SASL mechanisms this client speaks. SCRAM never sends the password and checks that
# the server knows it; PLAIN sends it as it is, so only over TLS unless allowed.
SCRAM = "SCRAM-SHA-256"
PLAIN = "PLAIN"
# What a server's AUTHENTICATE message may add up to before we give up on it: SCRAM's
# are a hundred bytes or so.
SASL_MAX_IN = 8192
# How NickServ tells someone on a registered nick that they are not logged in.
REGISTERED_NOTICE = "This nickname is registered"

_ACTION_PREFIX = "\x01ACTION "


def nick_of(source: str | None) -> str:
    """The nick part of a `nick!user@host` source (the whole source for servers)."""
    if not source:
        return ""
    return source.split("!", 1)[0].split("@", 1)[0]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp_ref(when: datetime) -> str:
    """A CHATHISTORY timestamp reference: "YYYY-MM-DDThh:mm:ss.sssZ", in UTC."""
    utc = when.astimezone(UTC)
    return f"timestamp={utc.strftime('%Y-%m-%dT%H:%M:%S')}.{utc.microsecond // 1000:03d}Z"


@dataclass(slots=True)
class _Seen:
    """The newest message seen in a buffer: where catching up after a reconnect starts."""

    time: datetime
    msgid: str | None


@dataclass(slots=True)
class _Request:
    """A CHATHISTORY request waiting for its batch."""

    target: str
    purpose: ev.HistoryPurpose
    limit: int
    # A timestamp= bound to ask with instead if the server rejects our msgid= one.
    fallback: str | None = None
    # Lines fetched so far by earlier pages of the same catch-up.
    fetched: int = 0


@dataclass(slots=True)
class _Batch:
    """An open BATCH; chathistory ones collect their messages until the batch ends."""

    kind: str
    target: str
    messages: list[ev.ChatMessage] = field(default_factory=list)
    lines: int = 0  # lines in the batch, whether or not they became messages
    newest_msgid: str | None = None
    newest_time: datetime | None = None

    @property
    def history(self) -> bool:
        return self.kind.endswith("chathistory")


class ClientProtocol:
    """One client's view of one IRC server, across reconnects.

    Call `connection_made()` on each new connection, feed received bytes to
    `receive_data()`, and write whatever `data_to_send()` returns. The command methods
    queue lines and return any events the caller should apply at once (a local echo
    when the server does not echo our messages).
    """

    def __init__(
        self,
        nick: str,
        *,
        username: str = "roomchat",
        realname: str = "roomchat client",
        password: str | None = None,
        account: str | None = None,
        sasl: bool = False,
        sasl_plain_without_tls: bool = False,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
        history_page: int = DEFAULT_HISTORY_PAGE,
        catch_up_max: int = DEFAULT_CATCH_UP_MAX,
    ) -> None:
        self.wanted_nick = nick
        self.username = username
        self.realname = realname
        # With SASL the password is the account's; without, the server's (PASS).
        self.server_password = None if sasl else password
        # The account SASL logs in to (the nick when None) and its password; a /login
        # or /register that worked sets them, so a reconnect logs in by itself.
        self.account = account
        self.sasl_password = password if sasl else None
        self.sasl_plain_without_tls = sasl_plain_without_tls
        # The account being logged in to by /login or /register, until 900 says so.
        self._logging_in: tuple[str, str] | None = None
        self._clock = clock
        self._now = now
        self.history_page = max(1, history_page)
        self.catch_up_max = catch_up_max
        # Folded buffer name -> the newest message seen there, kept across reconnects.
        self._last_seen: dict[str, _Seen] = {}
        self._ping_tokens = itertools.count(1)
        self.connection_made()

    # ----------------------------------------------------------------- lifecycle

    def connection_made(self, secure: bool = False) -> None:
        """Forget everything tied to the previous connection and start registering;
        `secure` says whether it is TLS (which SASL PLAIN needs unless allowed)."""
        self.nick = self.wanted_nick
        self.server = ""
        self.registered = False
        self.secure = secure
        self.caps: set[str] = set()
        self._offered: dict[str, str] = {}
        self._cap_done = False
        # The SASL mechanism of this connection's login ("" for none), its SCRAM
        # conversation, and a server payload still arriving in 400-byte chunks.
        self._sasl = ""
        self._scram: ScramClient | None = None
        self._sasl_in = ResponseReader(SASL_MAX_IN)
        self._logging_in = None
        self._nick_tries = 0
        self.chantypes = "#&"
        self.prefixes = "~&@%+"
        self._names: dict[str, list[str]] = {}
        self._batches: dict[str, _Batch] = {}
        # Folded target -> the one CHATHISTORY request waiting for its batch there.
        self._pending: dict[str, _Request] = {}
        self.history_max = 0  # ISUPPORT CHATHISTORY; 0 = no maximum announced
        self._ref_types = frozenset({"msgid", "timestamp"})
        self._pings: dict[str, float] = {}
        self._inbuf = b""
        self._out: list[bytes] = []
        self._send(Message("CAP", ("LS", "302")))

    def offered(self, cap: str) -> str | None:
        """The value the server gave `cap` in CAP LS/NEW ("" for none); None if not offered."""
        return self._offered.get(cap)

    def data_to_send(self) -> bytes:
        out = b"".join(self._out)
        self._out.clear()
        return out

    def receive_data(self, data: bytes) -> list[ev.Event]:
        """Split bytes into lines and turn each into zero or more events."""
        self._inbuf += data
        *lines, self._inbuf = self._inbuf.split(b"\n")
        if len(self._inbuf) > MAX_LINE_BYTES:
            # A line this long is broken input; dropping it keeps memory bounded.
            self._inbuf = b""
        out: list[ev.Event] = []
        for raw in lines:
            raw = raw.rstrip(b"\r")
            if not raw:
                continue
            try:
                msg = parse_line(raw)
            except ProtocolViolation:
                continue
            out.extend(self.handle(msg))
        return out

    def is_channel(self, name: str) -> bool:
        return bool(name) and name[0] in self.chantypes

    def is_me(self, nick: str) -> bool:
        return fold(nick) == fold(self.nick)

    # ----------------------------------------------------------------- commands

    def privmsg(self, target: str, text: str, *, action: bool = False) -> list[ev.Event]:
        """Send text, split into lines that fit; return local echoes if the server won't echo."""
        overhead = len(f":{self.nick}!{self.username}@ PRIVMSG {target} :".encode())
        budget = LINE_BUDGET - overhead - HOST_ALLOWANCE
        if action:
            budget -= len(_ACTION_PREFIX) + 1
        kind = ev.MessageKind.ACTION if action else ev.MessageKind.PRIVMSG
        echoes: list[ev.Event] = []
        for line in text.split("\n"):
            if not line:
                continue
            for piece in split_text(line, max(budget, 16)):
                wire = f"{_ACTION_PREFIX}{piece}\x01" if action else piece
                self._send(Message("PRIVMSG", (target, wire)))
                if "echo-message" not in self.caps:
                    echoes.append(ev.ChatMessage(
                        buffer=target, sender=self.nick, text=piece, kind=kind,
                        time=self._now(), own=True, private=not self.is_channel(target),
                    ))
        return echoes

    def join(self, room: str, key: str | None = None) -> None:
        self._send(Message("JOIN", (room, key) if key else (room,)))

    def part(self, room: str, reason: str = "") -> None:
        self._send(Message("PART", (room, reason) if reason else (room,)))

    def change_nick(self, nick: str) -> None:
        if not self.registered:
            self.wanted_nick = nick
        self._send(Message("NICK", (nick,)))

    def topic(self, room: str, topic: str | None) -> None:
        self._send(Message("TOPIC", (room,) if topic is None else (room, topic)))

    def names(self, room: str) -> None:
        self._send(Message("NAMES", (room,)))

    def away(self, message: str | None) -> None:
        self._send(Message("AWAY", (message,) if message else ()))

    def list_rooms(self) -> None:
        self._send(Message("LIST"))

    def quit(self, reason: str) -> None:
        self._send(Message("QUIT", (reason,)))

    def raw(self, line: str) -> None:
        self._send(parse_line(line))

    def register_account(self, password: str) -> str:
        """Register the current nick as an account: IRCv3 REGISTER when offered, else
        NickServ REGISTER. Returns which was used, for the user."""
        self._logging_in = (self.nick, password)
        if self.offered("draft/account-registration") is not None:
            self._send(Message("REGISTER", ("*", "*", password)))
            return "REGISTER"
        self._send(Message("PRIVMSG", ("NickServ", f"REGISTER {password}")))
        return "NickServ"

    def identify(self, account: str | None, password: str) -> None:
        """Log in after registration, with NickServ IDENTIFY (never echoed locally)."""
        self._logging_in = (account or self.nick, password)
        text = f"IDENTIFY {account} {password}" if account else f"IDENTIFY {password}"
        self._send(Message("PRIVMSG", ("NickServ", text)))

    def ping(self) -> None:
        """Send a PING whose PONG measures the lag."""
        token = f"lag{next(self._ping_tokens)}"
        self._pings[token] = self._clock()
        self._send(Message("PING", (token,)))

    # ----------------------------------------------------------------- history

    @property
    def history_enabled(self) -> bool:
        return bool(self.caps & HISTORY_CAPS)

    @property
    def history_limit(self) -> int:
        """Lines to ask for per request: our page, within the server's maximum."""
        if self.history_max > 0:
            return min(self.history_page, self.history_max)
        return self.history_page

    def history_pending(self, target: str) -> bool:
        return fold(target) in self._pending

    def fetch_latest(self, target: str) -> bool:
        """Ask for the newest page of `target` (a room just joined, a query just opened)."""
        return self._request("LATEST", target, "*", ev.HistoryPurpose.LATEST)

    def fetch_older(self, target: str, msgid: str | None, when: datetime) -> bool:
        """Ask for the page before the oldest line shown (its msgid, else its time).

        Returns False when nothing was sent: no history on this server, or a request
        for `target` is still waiting for its answer.
        """
        return self._request("BEFORE", target, self._ref(msgid, when),
                             ev.HistoryPurpose.OLDER)

    def fetch_missed(self, target: str) -> bool:
        """Ask for what was said in `target` after the newest message we saw there.

        Returns False when we never saw anything there (nothing to catch up from).
        Full pages are followed by the next page until a short one or `catch_up_max`.
        """
        seen = self._last_seen.get(fold(target))
        if seen is None:
            return False
        ref = self._ref(seen.msgid, seen.time)
        stamp = timestamp_ref(seen.time)
        return self._request("AFTER", target, ref, ev.HistoryPurpose.MISSED,
                             fallback=stamp if ref != stamp else None)

    def _ref(self, msgid: str | None, when: datetime) -> str:
        if msgid and "msgid" in self._ref_types:
            return f"msgid={msgid}"
        return timestamp_ref(when)

    def _request(self, sub: str, target: str, ref: str, purpose: ev.HistoryPurpose, *,
                 fallback: str | None = None, fetched: int = 0) -> bool:
        key = fold(target)
        if not self.history_enabled or not self.registered or key in self._pending:
            return False
        limit = self.history_limit
        self._pending[key] = _Request(target, purpose, limit, fallback, fetched)
        self._send(Message("CHATHISTORY", (sub, target, ref, str(limit))))
        return True

    def _saw(self, key: str, when: datetime, msgid: str | None) -> None:
        seen = self._last_seen.get(key)
        if seen is None or when >= seen.time:
            self._last_seen[key] = _Seen(when, msgid)

    def _history_done(self, batch: _Batch) -> list[ev.Event]:
        """A chathistory batch ended: one event for it, and the next catch-up page."""
        key = fold(batch.target)
        request = self._pending.pop(key, None)
        # A batch we did not ask for is the server's own replay on join.
        purpose = request.purpose if request else ev.HistoryPurpose.LATEST
        if purpose is not ev.HistoryPurpose.OLDER and batch.newest_time is not None:
            self._saw(key, batch.newest_time, batch.newest_msgid)
        if (request is not None and purpose is ev.HistoryPurpose.MISSED
                and batch.lines >= request.limit and batch.newest_time is not None
                and request.fetched + batch.lines < self.catch_up_max):
            self._request("AFTER", batch.target,
                          self._ref(batch.newest_msgid, batch.newest_time), purpose,
                          fetched=request.fetched + batch.lines)
        return [ev.HistoryBatch(batch.target, purpose, tuple(batch.messages))]

    def _history_failed(self, key: str, reason: str, *, retry: bool = True
                        ) -> list[ev.Event]:
        request = self._pending.pop(key)
        if retry and request.fallback is not None:
            # The server did not take our msgid (it may have lost it in a restart).
            self._request("AFTER", request.target, request.fallback, request.purpose,
                          fetched=request.fetched)
            return []
        return [ev.HistoryBatch(request.target, request.purpose, (), error=reason)]

    def seconds_since_ping(self) -> float | None:
        """How long the oldest unanswered lag PING has waited, for timeout detection."""
        if not self._pings:
            return None
        return self._clock() - min(self._pings.values())

    # ----------------------------------------------------------------- internals

    def _send(self, msg: Message) -> None:
        self._out.append(msg.to_bytes())

    def _time_of(self, msg: Message) -> datetime:
        stamp = msg.tags.get("time")
        if stamp:
            try:
                return datetime.fromisoformat(stamp)
            except ValueError:
                pass
        return self._now()

    def _register(self) -> None:
        if self.server_password:
            self._send(Message("PASS", (self.server_password,)))
        self._send(Message("NICK", (self.nick,)))
        self._send(Message("USER", (self.username, "0", "*", self.realname)))

    def _end_caps(self) -> None:
        if not self._cap_done:
            self._cap_done = True
            self._send(Message("CAP", ("END",)))

    def handle(self, msg: Message) -> list[ev.Event]:
        """Turn one parsed line into events, queueing any automatic replies."""
        batch = self._history_batch(msg)
        if batch is not None:
            return self._collect(batch, msg)
        handler = _HANDLERS.get(msg.command)
        if handler is not None:
            return handler(self, msg)
        if msg.command.isdigit():
            return self._numeric(msg)
        return []

    def _history_batch(self, msg: Message) -> _Batch | None:
        ref = msg.tags.get("batch")
        batch = self._batches.get(ref) if ref is not None else None
        return batch if batch is not None and batch.history else None

    def _collect(self, batch: _Batch, msg: Message) -> list[ev.Event]:
        """Keep a line of a chathistory batch until the batch ends."""
        if msg.command not in ("PRIVMSG", "NOTICE"):
            # Without draft/event-playback a server sends only messages; anything
            # else replayed (a JOIN of ours, say) must not act as if it happened now.
            return []
        batch.lines += 1
        when = self._time_of(msg)
        if batch.newest_time is None or when >= batch.newest_time:
            batch.newest_time, batch.newest_msgid = when, msg.tags.get("msgid")
        for event in self._on_message(msg):
            if isinstance(event, ev.ChatMessage):
                batch.messages.append(event)
        return []

    # Each handler below takes one message and returns the events it produces.

    def _on_ping(self, msg: Message) -> list[ev.Event]:
        self._send(Message("PONG", msg.params[:1] or ("",)))
        return []

    def _on_pong(self, msg: Message) -> list[ev.Event]:
        token = msg.params[-1] if msg.params else ""
        sent = self._pings.pop(token, None)
        if sent is None:
            return []
        # Older unanswered pings are answered implicitly: the link is alive.
        self._pings.clear()
        return [ev.LagMeasured(max(0.0, self._clock() - sent))]

    def _on_cap(self, msg: Message) -> list[ev.Event]:
        sub = msg.param(1).upper()
        if sub in ("LS", "NEW"):
            more = msg.param(2) == "*"
            offered = msg.param(3) if more else msg.param(2)
            for item in offered.split():
                name, _, value = item.partition("=")
                self._offered[name] = value
            if more:
                return []
            want = {name for name in self._offered
                    if name in WANTED_CAPS and name not in self.caps}
            notes: list[ev.Event] = []
            if sub == "LS":
                if self.sasl_password:
                    self._sasl, why = self._sasl_mechanism()
                    if self._sasl:
                        want.add("sasl")
                    else:
                        notes.append(ev.ServerText(why, error=True))
                self._register()
            if want:
                self._send(Message("CAP", ("REQ", " ".join(sorted(want)))))
            elif sub == "LS":
                self._end_caps()
            return notes
        if sub == "ACK":
            acked = set(msg.param(2).split())
            self.caps |= {c for c in acked if not c.startswith("-")}
            self.caps -= {c[1:] for c in acked if c.startswith("-")}
            if "sasl" in acked and self._sasl and not self.registered:
                self._send(Message("AUTHENTICATE", (self._sasl,)))
                return [ev.ServerText(f"Logging in as {self._sasl_account()} "
                                      f"with {self._sasl}…")]
            self._end_caps()
            return [ev.CapsEnabled(frozenset(self.caps))]
        if sub == "NAK":
            wanted_sasl = bool(self._sasl)
            self._sasl = ""
            self._end_caps()
            if wanted_sasl:
                return [ev.ServerText("The server refused SASL: not logged in.", error=True)]
            return []
        if sub == "DEL":
            self.caps -= set(msg.param(2).split())
        return []

    def _sasl_account(self) -> str:
        return self.account or self.nick

    def _sasl_mechanism(self) -> tuple[str, str]:
        """The mechanism to log in with, or "" and why there is none: SCRAM-SHA-256
        when the server lists it, else PLAIN, which only over TLS unless allowed."""
        if "sasl" not in self._offered:
            return "", "The server does not offer SASL: not logged in."
        value = self._offered["sasl"]
        # A `sasl` without a list (CAP LS below 302) promises at least PLAIN.
        mechanisms = value.upper().split(",") if value else [PLAIN]
        if SCRAM in mechanisms:
            return SCRAM, ""
        if PLAIN not in mechanisms:
            return "", (f"The server's SASL mechanisms ({value}) are none this client "
                        f"speaks ({SCRAM}, {PLAIN}): not logged in.")
        if self.secure or self.sasl_plain_without_tls:
            return PLAIN, ""
        return "", ("Not logged in: the server offers only SASL PLAIN, which would send "
                    "the password unencrypted. Connect with --tls, or allow it with "
                    "sasl_plain_without_tls = true.")

    def _on_authenticate(self, msg: Message) -> list[ev.Event]:
        """One chunk of the server's side of the SASL conversation."""
        if not self._sasl or self.registered:
            return []
        try:
            data = self._sasl_in.add(msg.param(0))
            if data is None:
                return []  # a full chunk: more follows
            challenge = data.decode()
        except (SaslError, UnicodeDecodeError):
            return self._sasl_abort("the server's SASL message was not readable")
        account, password = self._sasl_account(), self.sasl_password or ""
        if self._sasl == PLAIN:
            return self._sasl_reply(encode_plain(account, password))
        try:
            if self._scram is None:
                self._scram = ScramClient([SCRAM], account, password)
                return self._sasl_reply(self._scram.get_client_first().encode())
            if challenge.startswith("r="):
                self._scram.set_server_first(challenge)
                return self._sasl_reply(self._scram.get_client_final().encode())
            self._scram.set_server_final(challenge)
        except ScramException as exc:
            # A server that cannot prove it knows the password is not the server we
            # registered with; stop before it learns anything more.
            return self._sasl_abort(f"SCRAM failed: {exc}")
        return self._sasl_reply(b"")

    def _sasl_reply(self, data: bytes) -> list[ev.Event]:
        for chunk in encode_response(data):
            self._send(Message("AUTHENTICATE", (chunk,)))
        return []

    def _sasl_abort(self, why: str) -> list[ev.Event]:
        self._send(Message("AUTHENTICATE", ("*",)))
        self._sasl = ""
        return [ev.ServerText(f"SASL login as {self._sasl_account()} stopped: {why}; "
                              "continuing without logging in.", error=True)]

    def _on_batch(self, msg: Message) -> list[ev.Event]:
        ref = msg.param(0)
        if ref.startswith("+"):
            self._batches[ref[1:]] = _Batch(msg.param(1), msg.param(2))
        elif ref.startswith("-"):
            batch = self._batches.pop(ref[1:], None)
            if batch is not None and batch.history:
                return self._history_done(batch)
        return []

    def _on_message(self, msg: Message) -> list[ev.Event]:
        if len(msg.params) < 2:
            return []
        target, text = msg.params[0], msg.params[1]
        sender = nick_of(msg.source)
        if not msg.source or ("!" not in msg.source and "." in msg.source):
            # From the server itself (a notice before registration, say).
            return [ev.ServerText(f"-{sender or 'server'}- {text}")]
        own = self.is_me(sender)
        kind = ev.MessageKind.NOTICE if msg.command == "NOTICE" else ev.MessageKind.PRIVMSG
        if text.startswith("\x01"):
            body = text.strip("\x01")
            if body.upper().startswith("ACTION"):
                kind, text = ev.MessageKind.ACTION, body[7:]
            else:
                # Other CTCP requests (VERSION, PING, ...) are not chat; ignore them.
                return []
        bare = target.lstrip(self.prefixes)
        if self.is_channel(bare):
            target = bare  # "@#room" (to the room's operators) still belongs to #room
        private = not self.is_channel(target)
        buffer = (target if own else sender) if private else target
        history = self._history_batch(msg) is not None
        when, msgid = self._time_of(msg), msg.tags.get("msgid")
        if not history and "time" in msg.tags:
            self._saw(fold(buffer), when, msgid)
        events: list[ev.Event] = [
            ev.ChatMessage(
                buffer=buffer, sender=sender, text=text, kind=kind, time=when,
                own=own, history=history, private=private, msgid=msgid,
            )
        ]
        if (private and not history and kind is ev.MessageKind.NOTICE
                and fold(sender) == fold("NickServ") and REGISTERED_NOTICE in text):
            events.append(ev.LoginHint(self.nick))
        return events

    def _on_join(self, msg: Message) -> list[ev.Event]:
        room, nick = msg.param(0), nick_of(msg.source)
        own = self.is_me(nick)
        when = self._time_of(msg)
        if own:
            # Back after a reconnect: what we missed; a first join: the latest page.
            if not self.fetch_missed(room):
                self.fetch_latest(room)
            if "time" in msg.tags and fold(room) not in self._last_seen:
                # A room that stays quiet is caught up from the moment we joined it.
                self._saw(fold(room), when, None)
        return [ev.Joined(room, nick, own, when)]

    def _on_part(self, msg: Message) -> list[ev.Event]:
        nick = nick_of(msg.source)
        if self.is_me(nick):
            # Joining again later starts afresh, with the latest page.
            self._last_seen.pop(fold(msg.param(0)), None)
        return [ev.Parted(msg.param(0), nick, msg.param(1), self.is_me(nick), self._time_of(msg))]

    def _on_kick(self, msg: Message) -> list[ev.Event]:
        room, nick = msg.param(0), msg.param(1)
        return [
            ev.Kicked(room, nick, nick_of(msg.source), msg.param(2), self.is_me(nick),
                      self._time_of(msg))
        ]

    def _on_quit(self, msg: Message) -> list[ev.Event]:
        return [ev.Quit(nick_of(msg.source), msg.param(0), self._time_of(msg))]

    def _on_nick(self, msg: Message) -> list[ev.Event]:
        old, new = nick_of(msg.source), msg.param(0)
        own = self.is_me(old)
        if own:
            self.nick = new
            self.wanted_nick = new
        return [ev.NickChanged(old, new, own, self._time_of(msg))]

    def _on_topic(self, msg: Message) -> list[ev.Event]:
        return [
            ev.TopicChanged(msg.param(0), msg.param(1), nick_of(msg.source), self._time_of(msg))
        ]

    def _on_away(self, msg: Message) -> list[ev.Event]:
        nick = nick_of(msg.source)
        return [ev.AwayChanged(nick, msg.param(0) or None, self.is_me(nick))]

    def _on_fail(self, msg: Message) -> list[ev.Event]:
        """IRCv3 standard replies: FAIL <command> <code> [<context>...] <description>."""
        command, description = msg.param(0).upper(), msg.params[-1] if msg.params else ""
        if command == "CHATHISTORY":
            for context in msg.params[2:-1]:
                if fold(context) in self._pending:
                    return self._history_failed(fold(context), description)
        return [ev.ServerText(f"{command}: {description}", error=True)]

    def _on_register(self, msg: Message) -> list[ev.Event]:
        """REGISTER SUCCESS (or VERIFICATION_REQUIRED) <account> <message>."""
        return [ev.ServerText(msg.params[-1] if len(msg.params) > 2 else " ".join(msg.params))]

    def _on_error(self, msg: Message) -> list[ev.Event]:
        return [ev.ServerText(f"Server closed the link: {msg.param(0)}", error=True)]

    def _on_mode(self, msg: Message) -> list[ev.Event]:
        target = msg.param(0)
        text = f"{nick_of(msg.source)} sets mode {' '.join(msg.params[1:])}"
        return [ev.ServerText(text, buffer=target if self.is_channel(target) else None)]

    def _on_invite(self, msg: Message) -> list[ev.Event]:
        return [ev.ServerText(f"{nick_of(msg.source)} invites you to {msg.param(1)}")]

    def _logged_in(self, account: str, text: str) -> list[ev.Event]:
        """900: logged in. After a /login or /register of that account, reconnects log
        in to it by SASL, as if it had been configured."""
        pending, self._logging_in = self._logging_in, None
        if pending is not None and fold(pending[0]) == fold(account):
            self.account, self.sasl_password = account, pending[1]
        return [ev.AccountChanged(account, text)]

    def _numeric(self, msg: Message) -> list[ev.Event]:
        code = msg.command
        args = msg.params[1:]
        if code == "001":
            self.registered = True
            self.nick = msg.param(0) or self.nick
            self.server = msg.source or ""
            self._end_caps()
            return [ev.Registered(self.nick, self.server), ev.ServerText(msg.param(1))]
        if code == "005":
            for token in args[:-1]:
                key, _, value = token.partition("=")
                if key == "CHANTYPES" and value:
                    self.chantypes = value
                elif key == "PREFIX" and ")" in value:
                    self.prefixes = value.split(")", 1)[1]
                elif key == "CHATHISTORY" and value.isdigit():
                    self.history_max = int(value)
                elif key == "MSGREFTYPES" and value:
                    self._ref_types = frozenset(value.lower().split(","))
            return []
        if code == "332":
            return [ev.TopicChanged(msg.param(1), msg.param(2), None, self._now())]
        if code == "353":
            room = msg.param(2)
            self._names.setdefault(fold(room), []).extend(msg.param(3).split())
            return []
        if code == "366":
            room = msg.param(1)
            nicks = tuple(n.lstrip(self.prefixes) for n in self._names.pop(fold(room), []))
            return [ev.Names(room, nicks)]
        if code == "322":
            users = int(msg.param(2)) if msg.param(2).isdigit() else 0
            return [ev.ListEntry(msg.param(1), users, msg.param(3))]
        if code in ("321", "333", "329", "375", "376"):
            return []
        if code == "305":
            return [ev.AwayChanged(self.nick, None, True)]
        if code == "306":
            return [ev.AwayChanged(self.nick, "away", True)]
        if code in ("433", "432", "436") and not self.registered:
            self._nick_tries += 1
            self.nick = f"{self.wanted_nick[:25]}{'_' * self._nick_tries}"
            if code == "432":
                self.nick = f"guest{self._nick_tries}"
            self._send(Message("NICK", (self.nick,)))
            return [ev.ServerText(f"Nick {msg.param(1)} is taken; trying {self.nick}")]
        if code in ("903", "907"):
            self._sasl = ""
            self._end_caps()
            return []
        if code in ("902", "904", "905", "906"):
            tried, self._sasl = self._sasl, ""
            self._end_caps()
            if not tried:
                return []  # the answer to our own abort, which said why already
            return [ev.ServerText(f"SASL login as {self._sasl_account()} failed: "
                                  f"{msg.params[-1]}; continuing without logging in.",
                                  error=True)]
        if code == "908":
            return []  # the mechanisms the server has: the 904 after it says enough
        if code == "900":
            return self._logged_in(msg.param(2), msg.params[-1])
        if code == "901":
            return [ev.AccountChanged(None, msg.params[-1])]
        if code == "421" and msg.param(1).upper() == "CHATHISTORY":
            # The cap was offered but the command is not there: give up on history.
            return [e for key in list(self._pending)
                    for e in self._history_failed(key, msg.params[-1], retry=False)]
        if code in ("421", "451") and not self._cap_done and msg.param(1).upper() == "CAP":
            # A server without CAP: register the old way.
            self._cap_done = True
            self._register()
            return []
        # 422 (no MOTD) is routine, not a failure of anything the user did.
        error = code[0] in "45" and code != "422"
        # An error names what it is about (a nick, a room) before its text; other
        # numerics carry counts and such in the middle, readable only in the text.
        subject = " ".join(a for a in args[:-1] if a != "*") if error else ""
        text = f"{subject}: {args[-1]}" if subject else (args[-1] if args else "")
        room = msg.param(1)
        buffer = room if self.is_channel(room) or code == "301" else None
        return [ev.ServerText(text, error=error, buffer=buffer)]


_HANDLERS: dict[str, Callable[[ClientProtocol, Message], list[ev.Event]]] = {
    "PING": ClientProtocol._on_ping,
    "PONG": ClientProtocol._on_pong,
    "CAP": ClientProtocol._on_cap,
    "AUTHENTICATE": ClientProtocol._on_authenticate,
    "BATCH": ClientProtocol._on_batch,
    "PRIVMSG": ClientProtocol._on_message,
    "NOTICE": ClientProtocol._on_message,
    "JOIN": ClientProtocol._on_join,
    "PART": ClientProtocol._on_part,
    "KICK": ClientProtocol._on_kick,
    "QUIT": ClientProtocol._on_quit,
    "NICK": ClientProtocol._on_nick,
    "TOPIC": ClientProtocol._on_topic,
    "AWAY": ClientProtocol._on_away,
    "FAIL": ClientProtocol._on_fail,
    "REGISTER": ClientProtocol._on_register,
    "ERROR": ClientProtocol._on_error,
    "MODE": ClientProtocol._on_mode,
    "INVITE": ClientProtocol._on_invite,
}
