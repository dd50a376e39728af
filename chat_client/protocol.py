"""The client side of IRC, sans-I/O: bytes in, events out, bytes to send.

Owns registration (CAP LS 302 negotiation, SASL PLAIN or PASS, nick collisions),
PING/PONG and lag, batches and chathistory replay, ISUPPORT, and the mapping of IRC
lines onto `events`. It keeps no sockets and never awaits, so tests drive it with
plain calls. Must not import asyncio, the client state, or prompt_toolkit; from the
server it may import only `chat_server.protocol`.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime

from chat_client import events as ev
from chat_server.protocol.errors import ProtocolViolation
from chat_server.protocol.message import MAX_LINE_BYTES, Message, parse_line, split_text
from chat_server.protocol.names import fold

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
# "Clients ... SHOULD limit the number of messages requested" — a screenful or two.
HISTORY_LIMIT = 100
# RFC 1459 2.3: 512 bytes per line including CRLF; we do not know how long the server
# will make our own "nick!user@host" prefix, so leave room for a long host.
LINE_BUDGET = 512 - 2
HOST_ALLOWANCE = 64
# AUTHENTICATE payloads are sent in chunks of at most 400 bytes (IRCv3 SASL 3.1).
SASL_CHUNK = 400

_ACTION_PREFIX = "\x01ACTION "


def nick_of(source: str | None) -> str:
    """The nick part of a `nick!user@host` source (the whole source for servers)."""
    if not source:
        return ""
    return source.split("!", 1)[0].split("@", 1)[0]


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.wanted_nick = nick
        self.username = username
        self.realname = realname
        self.password = password
        self.account = account
        self._clock = clock
        self._now = now
        # Room -> the server time of the last message seen there, for chathistory.
        self._last_seen: dict[str, str] = {}
        self._ping_tokens = itertools.count(1)
        self.connection_made()

    # ----------------------------------------------------------------- lifecycle

    def connection_made(self) -> None:
        """Forget everything tied to the previous connection and start registering."""
        self.nick = self.wanted_nick
        self.server = ""
        self.registered = False
        self.caps: set[str] = set()
        self._offered: dict[str, str] = {}
        self._cap_done = False
        self._sasl = False
        self._nick_tries = 0
        self.chantypes = "#&"
        self.prefixes = "~&@%+"
        self._names: dict[str, list[str]] = {}
        self._batches: dict[str, str] = {}
        self._pings: dict[str, float] = {}
        self._inbuf = b""
        self._out: list[bytes] = []
        self._send(Message("CAP", ("LS", "302")))

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

    def ping(self) -> None:
        """Send a PING whose PONG measures the lag."""
        token = f"lag{next(self._ping_tokens)}"
        self._pings[token] = self._clock()
        self._send(Message("PING", (token,)))

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
        if self.password and not self._sasl:
            self._send(Message("PASS", (self.password,)))
        self._send(Message("NICK", (self.nick,)))
        self._send(Message("USER", (self.username, "0", "*", self.realname)))

    def _end_caps(self) -> None:
        if not self._cap_done:
            self._cap_done = True
            self._send(Message("CAP", ("END",)))

    def handle(self, msg: Message) -> list[ev.Event]:
        """Turn one parsed line into events, queueing any automatic replies."""
        handler = _HANDLERS.get(msg.command)
        if handler is not None:
            return handler(self, msg)
        if msg.command.isdigit():
            return self._numeric(msg)
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
            want = sorted(
                name for name in self._offered
                if (name in WANTED_CAPS or (name == "sasl" and self.password))
                and name not in self.caps
            )
            if sub == "LS":
                self._sasl = "sasl" in want and "PLAIN" in (
                    self._offered.get("sasl") or "PLAIN"
                ).upper().split(",")
                if not self._sasl and "sasl" in want:
                    want.remove("sasl")
                self._register()
            if want:
                self._send(Message("CAP", ("REQ", " ".join(want))))
            elif sub == "LS":
                self._end_caps()
            return []
        if sub == "ACK":
            acked = set(msg.param(2).split())
            self.caps |= {c for c in acked if not c.startswith("-")}
            self.caps -= {c[1:] for c in acked if c.startswith("-")}
            if "sasl" in acked and self._sasl and not self.registered:
                self._send(Message("AUTHENTICATE", ("PLAIN",)))
                return []
            self._end_caps()
            return [ev.CapsEnabled(frozenset(self.caps))]
        if sub == "NAK":
            self._sasl = False
            self._end_caps()
            return []
        if sub == "DEL":
            self.caps -= set(msg.param(2).split())
        return []

    def _on_authenticate(self, msg: Message) -> list[ev.Event]:
        if msg.param(0) != "+" or not self.password:
            return []
        account = self.account or self.nick
        blob = base64.b64encode(
            f"{account}\0{account}\0{self.password}".encode()
        ).decode()
        chunks = [blob[i : i + SASL_CHUNK] for i in range(0, len(blob), SASL_CHUNK)]
        if len(chunks[-1]) == SASL_CHUNK:
            chunks.append("+")
        for chunk in chunks:
            self._send(Message("AUTHENTICATE", (chunk,)))
        return []

    def _on_batch(self, msg: Message) -> list[ev.Event]:
        ref = msg.param(0)
        if ref.startswith("+"):
            self._batches[ref[1:]] = msg.param(1)
        elif ref.startswith("-"):
            self._batches.pop(ref[1:], None)
        return []

    def _in_history(self, msg: Message) -> bool:
        batch = msg.tags.get("batch")
        return batch is not None and self._batches.get(batch, "").endswith("chathistory")

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
        history = self._in_history(msg)
        if not private and "time" in msg.tags:
            self._last_seen[fold(target)] = msg.tags["time"]
        return [
            ev.ChatMessage(
                buffer=buffer, sender=sender, text=text, kind=kind, time=self._time_of(msg),
                own=own, history=history, private=private, msgid=msg.tags.get("msgid"),
            )
        ]

    def _on_join(self, msg: Message) -> list[ev.Event]:
        room, nick = msg.param(0), nick_of(msg.source)
        own = self.is_me(nick)
        if own and self.caps & {"chathistory", "draft/chathistory"}:
            since = self._last_seen.get(fold(room))
            bound = f"timestamp={since}" if since else "*"
            self._send(Message("CHATHISTORY", ("LATEST", room, bound, str(HISTORY_LIMIT))))
        return [ev.Joined(room, nick, own, self._time_of(msg))]

    def _on_part(self, msg: Message) -> list[ev.Event]:
        nick = nick_of(msg.source)
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

    def _on_error(self, msg: Message) -> list[ev.Event]:
        return [ev.ServerText(f"Server closed the link: {msg.param(0)}", error=True)]

    def _on_mode(self, msg: Message) -> list[ev.Event]:
        target = msg.param(0)
        text = f"{nick_of(msg.source)} sets mode {' '.join(msg.params[1:])}"
        return [ev.ServerText(text, buffer=target if self.is_channel(target) else None)]

    def _on_invite(self, msg: Message) -> list[ev.Event]:
        return [ev.ServerText(f"{nick_of(msg.source)} invites you to {msg.param(1)}")]

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
            self._end_caps()
            return []
        if code in ("902", "904", "905", "906"):
            self._end_caps()
            return [ev.ServerText(f"SASL login failed: {msg.params[-1]}", error=True)]
        if code in ("900", "901"):
            return [ev.ServerText(msg.params[-1])]
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
    "ERROR": ClientProtocol._on_error,
    "MODE": ClientProtocol._on_mode,
    "INVITE": ClientProtocol._on_invite,
}
