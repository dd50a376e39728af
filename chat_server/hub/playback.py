"""History in IRC's terms: CHATHISTORY parameters in, kept entries out as hub events.

Owns what a CHATHISTORY request may say (its subcommands, message references and
limits, with the spec's error codes) and how a kept `Entry` becomes the event it was
when it was relayed, so that sessions render history through their live renderers.
Pure and synchronous. Must not import the session, transport or store layers.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from chat_server.hub.events import (
    Chat,
    Event,
    Joined,
    Kicked,
    ModeChanged,
    NickChanged,
    Parted,
    Quit,
    Source,
    TopicChanged,
    make_source,
)
from chat_server.hub.history import Entry, Ref, RefKind, Sub, dm_parties
from chat_server.protocol.text import number

# "MSGREFTYPES=msgid,timestamp": the reference types this server takes, in the order
# it prefers them (msgids are exact; times may be shared by several entries).
MSGREFTYPES = ("msgid", "timestamp")

# "A timestamp parameter MUST have the format timestamp=YYYY-MM-DDThh:mm:ss.sssZ, as in
#  the server-time extension." Milliseconds are optional here: some clients drop them.
_TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z")

# How many parameters follow the subcommand: target, references, limit.
_ARITY = {
    Sub.LATEST: 3, Sub.BEFORE: 3, Sub.AFTER: 3, Sub.AROUND: 3, Sub.BETWEEN: 4,
    Sub.TARGETS: 3,
}


class Refused(Exception):
    """A request the spec answers with FAIL CHATHISTORY: code, context, description."""

    def __init__(self, code: str, context: tuple[str, ...], description: str) -> None:
        super().__init__(description)
        self.code = code
        self.context = context
        self.description = description


@dataclass(frozen=True, slots=True)
class Request:
    """A CHATHISTORY request that parsed; the target is not checked yet."""

    sub: Sub
    target: str  # "" for TARGETS
    start: Ref
    end: Ref | None
    limit: int


def parse_time(text: str) -> float | None:
    """Seconds since the epoch at millisecond precision, or None when malformed."""
    m = _TIMESTAMP.fullmatch(text)
    if m is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        when = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None  # February 30th, hour 25
    millis = int((m.group(7) or "0").ljust(3, "0")[:3])
    return (calendar.timegm(when.timetuple()) * 1000 + millis) / 1000


def parse_ref(sub: Sub, text: str) -> Ref:
    kind, sep, value = text.partition("=")
    if text == "*":
        if sub is not Sub.LATEST:
            raise Refused("INVALID_PARAMS", (sub.value, text), "* is only valid for LATEST")
        return Ref(RefKind.NONE)
    if not sep or kind not in MSGREFTYPES:
        raise Refused("INVALID_MSGREFTYPE", (sub.value, text), "Unknown message reference type")
    if not value:
        raise Refused("INVALID_PARAMS", (sub.value, text), "Empty message reference")
    if kind == "msgid":
        return Ref(RefKind.MSGID, msgid=value)
    when = parse_time(value)
    if when is None:
        raise Refused("INVALID_PARAMS", (sub.value, text), "Invalid timestamp")
    return Ref(RefKind.TIMESTAMP, time=when)


def parse_request(params: tuple[str, ...], most: int) -> Request:
    """Parse `CHATHISTORY <subcommand> ...`; `most` caps the limit (ISUPPORT CHATHISTORY)."""
    if not params:
        raise Refused("INVALID_PARAMS", ("*",), "Insufficient parameters")
    given = params[0].upper()
    try:
        sub = Sub(given)
    except ValueError:
        raise Refused("INVALID_PARAMS", (given,), "Unknown command") from None
    rest = params[1:]
    if len(rest) < _ARITY[sub]:
        raise Refused("INVALID_PARAMS", (sub.value,), "Insufficient parameters")
    if len(rest) > _ARITY[sub]:
        raise Refused("INVALID_PARAMS", (sub.value,), "Too many parameters")
    raw_limit = rest[-1]
    wanted = number(raw_limit)
    if not wanted:
        raise Refused("INVALID_PARAMS", (sub.value, raw_limit), "Invalid limit")
    limit = min(wanted, most)
    if sub is Sub.TARGETS:
        start, end = (parse_ref(sub, r) for r in rest[:2])
        for ref, raw in ((start, rest[0]), (end, rest[1])):
            if ref.kind is not RefKind.TIMESTAMP:
                raise Refused("INVALID_PARAMS", (sub.value, raw), "TARGETS takes timestamps")
        return Request(sub, "", start, end, limit)
    bound = parse_ref(sub, rest[1])
    until = parse_ref(sub, rest[2]) if sub is Sub.BETWEEN else None
    return Request(sub, rest[0], bound, until, limit)


def parse_source(prefix: str) -> Source | None:
    """A kept source back as a Source; None for the server's name (a server MODE)."""
    nick, bang, rest = prefix.partition("!")
    if not bang:
        return None
    user, _, host = rest.partition("@")
    return make_source(nick, user, host)


def _param(entry: Entry, i: int) -> str:
    return entry.params[i] if i < len(entry.params) else ""


def entry_event(entry: Entry) -> Event | None:
    """The event an entry was when it was relayed; None for a kind this server never kept."""
    source = parse_source(entry.source)
    kind, t, msgid = entry.kind, entry.time, entry.msgid
    if kind == "MODE":
        return ModeChanged(source, _param(entry, 0), _param(entry, 1), entry.params[2:], t, msgid)
    if source is None:
        return None
    if kind in ("PRIVMSG", "NOTICE"):
        to_room = dm_parties(entry.target) is None
        return Chat(source, kind, _param(entry, 0), _param(entry, 1), msgid, t, to_room)
    if kind == "JOIN":
        return Joined(source, _param(entry, 0), t, msgid)
    if kind == "PART":
        return Parted(source, _param(entry, 0), _param(entry, 1), t, msgid)
    if kind == "QUIT":
        return Quit(source, _param(entry, 0), t, msgid)
    if kind == "NICK":
        return NickChanged(source, _param(entry, 0), t, msgid)
    if kind == "TOPIC":
        return TopicChanged(source, _param(entry, 0), _param(entry, 1), t, msgid)
    if kind == "KICK":
        return Kicked(source, _param(entry, 0), _param(entry, 1), _param(entry, 2), t, msgid)
    return None


def entry_events(entries: list[Entry]) -> tuple[Event, ...]:
    return tuple(e for e in map(entry_event, entries) if e is not None)
