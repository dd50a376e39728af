"""Facts: every change of shared state, as a small frozen value, and their wire form.

Named tuples rather than dataclasses: a room message makes one per line said, and a
tuple is the cheapest immutable value to build.

A command handler decides against the hub's state and emits facts; the hub's reducer
applies them, in log order, on every node (docs/CLUSTER.md). Users are named by their
network-wide `uid` ("node.n"), rooms by name; times and msgids are fixed when the fact
is made, so every node keeps the same history. `encode`/`decode` are the log's entry
format: a JSON array `[LOG_VERSION, tag, field...]`. Pure values; must not import the
session, transport or store layers.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple, get_type_hints


class UserArrived(NamedTuple):
    """A nickname claim with the person behind it; the first claim in the log wins."""

    uid: str
    nick: str
    user: str
    host: str
    realname: str
    secure: bool
    signon: float


class NickSet(NamedTuple):
    uid: str
    nick: str
    time: float
    msgid: str


class UserLeft(NamedTuple):
    uid: str
    reason: str
    time: float
    msgid: str


class RoomJoined(NamedTuple):
    uid: str
    room: str  # as typed by whoever may create it
    time: float
    msgid: str


class RoomParted(NamedTuple):
    uid: str
    room: str
    reason: str
    time: float
    msgid: str


class UserKicked(NamedTuple):
    uid: str
    room: str
    target: str  # the uid kicked
    reason: str
    time: float
    msgid: str


class TopicSet(NamedTuple):
    uid: str
    room: str
    topic: str
    time: float
    msgid: str


class RoomModeSet(NamedTuple):
    """Mode changes decided against the room; `changes` is "+o\\tnick\\n-k\\t" lines."""

    uid: str
    room: str
    changes: str
    time: float
    msgid: str


class UserModeSet(NamedTuple):
    uid: str
    invisible: bool


class AwaySet(NamedTuple):
    uid: str
    text: str
    time: float


class InviteSent(NamedTuple):
    uid: str
    target: str  # uid
    room: str
    time: float


class Said(NamedTuple):
    """A PRIVMSG or NOTICE; `target` is a room name, or the recipient's uid."""

    uid: str
    command: str
    target: str
    text: str
    msgid: str
    time: float
    to_room: bool


class NodeDown(NamedTuple):
    """A node stopped answering (or stopped): its users quit everywhere."""

    node: str
    reason: str
    time: float


class TaggedSaid(NamedTuple):
    """A PRIVMSG, NOTICE or TAGMSG with client-only tags (`tags`, as sent on the wire)."""

    uid: str
    command: str
    target: str
    text: str
    msgid: str
    time: float
    to_room: bool
    tags: str


class RealnameSet(NamedTuple):
    """SETNAME: a new real name."""

    uid: str
    realname: str


class OperUp(NamedTuple):
    """A person gave OPER a right name and password: user mode +o (`name` is the block)."""

    uid: str
    name: str


class UserFlagsSet(NamedTuple):
    """User mode letters other than +i (which UserModeSet keeps) set and cleared."""

    uid: str
    adding: str
    removing: str


class UserKilled(NamedTuple):
    """An operator's KILL: `target` (a uid) leaves the network with `reason`."""

    uid: str
    target: str
    reason: str
    time: float
    msgid: str


class WallopsSent(NamedTuple):
    """An operator's WALLOPS, for everyone with user mode +w."""

    uid: str
    text: str
    time: float


class AccountRegistered(NamedTuple):
    """An account made (REGISTER, NickServ REGISTER) by `uid`, who is logged in to it.

    Carries credentials, never a password: `password_hash` is argon2id (its parameters
    inside), `scram` the SCRAM-SHA-256 credentials (`hub/accounts.py`), `certfp` the
    client certificate the account was registered with, or "". The first for a folded
    name in the log wins."""

    uid: str
    account: str
    password_hash: str
    scram: str
    certfp: str
    time: float


class AccountDropped(NamedTuple):
    """The account is deleted; whoever is logged in to it is logged out."""

    uid: str
    account: str


class PasswordSet(NamedTuple):
    """New credentials for an account (NickServ SET PASSWORD)."""

    uid: str
    account: str
    password_hash: str
    scram: str


class CertsSet(NamedTuple):
    """The client certificate fingerprints that log in to an account by SASL EXTERNAL,
    space-separated."""

    uid: str
    account: str
    certfps: str


class LoggedIn(NamedTuple):
    """`uid` is logged in to `account` ("": logged out), checked on the node that emits it."""

    uid: str
    account: str


class RoomRegistered(NamedTuple):
    """ChanServ REGISTER: `room` is kept with its settings as they are when this is
    applied, `founder` (an account) owning it. The first for a folded name in the log
    wins."""

    uid: str
    room: str
    founder: str
    time: float


class RoomDropped(NamedTuple):
    """ChanServ DROP (or the founder's account dropped): the room is no longer kept."""

    uid: str
    room: str


class RoomAccessSet(NamedTuple):
    """ChanServ AMODE: `account` gets `status` ("o" or "v") on joining `room`; ""
    takes it off the access list."""

    uid: str
    room: str
    account: str
    status: str


Fact = (
    UserArrived | NickSet | UserLeft | RoomJoined | RoomParted | UserKicked | TopicSet
    | RoomModeSet | UserModeSet | AwaySet | InviteSent | Said | NodeDown
    | OperUp | UserFlagsSet | UserKilled | WallopsSent | TaggedSaid | RealnameSet
    | AccountRegistered | AccountDropped | PasswordSet | CertsSet | LoggedIn
    | RoomRegistered | RoomDropped | RoomAccessSet
)

# Changes after which the same person's next command must see the applied state.
HOLDING: frozenset[type] = frozenset({
    UserArrived, NickSet, RoomJoined, RoomParted, UserKicked, TopicSet, RoomModeSet,
    UserModeSet, AwaySet, InviteSent, OperUp, UserFlagsSet, UserKilled, RealnameSet,
    AccountRegistered, AccountDropped, PasswordSet, CertsSet, LoggedIn,
    RoomRegistered, RoomDropped, RoomAccessSet,
})

LOG_VERSION = 1

# Separates the items of RoomModeSet.changes: NUL never reaches the hub from a client.
MODE_SEP = "\x00"


def encode_changes(changes: list[tuple[str, str]]) -> str:
    """("+o", uid), ("-k", "") ... as RoomModeSet.changes."""
    return MODE_SEP.join(part for change in changes for part in change)

_CLASSES: tuple[type, ...] = (
    UserArrived, NickSet, UserLeft, RoomJoined, RoomParted, UserKicked, TopicSet,
    RoomModeSet, UserModeSet, AwaySet, InviteSent, Said, NodeDown,
    # Appended, so that the numbers of the kinds above stay what older entries say.
    OperUp, UserFlagsSet, UserKilled, WallopsSent, TaggedSaid, RealnameSet,
    AccountRegistered, AccountDropped, PasswordSet, CertsSet, LoggedIn,
    RoomRegistered, RoomDropped, RoomAccessSet,
)
_TAGS: dict[type, int] = {cls: i for i, cls in enumerate(_CLASSES)}
# The type each field must have on the way in: a bad entry is refused, not applied.
_FIELD_TYPES: dict[type, tuple[type, ...]] = {
    cls: tuple(get_type_hints(cls).values()) for cls in _CLASSES
}


def tag_of(cls: type) -> int:
    """The number a kind of fact is written as (the log's NodeDown script needs it)."""
    return _TAGS[cls]


class BadEntry(ValueError):
    """A log entry this version cannot read (malformed, unknown kind, other version)."""


def encode(fact: Fact) -> bytes:
    return json.dumps([LOG_VERSION, _TAGS[type(fact)], *fact],
                      ensure_ascii=False, separators=(",", ":")).encode()


def decode(data: bytes | str) -> Fact:
    try:
        items: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEntry(f"not JSON: {exc}") from None
    if not isinstance(items, list) or len(items) < 2:
        raise BadEntry("not a [version, kind, ...] array")
    version, tag, *values = items
    if version != LOG_VERSION:
        raise BadEntry(f"log version {version!r}, this server reads {LOG_VERSION}")
    if not isinstance(tag, int) or not 0 <= tag < len(_CLASSES):
        raise BadEntry(f"unknown kind {tag!r}")
    cls = _CLASSES[tag]
    types = _FIELD_TYPES[cls]
    if len(values) != len(types):
        raise BadEntry(f"{cls.__name__} with {len(values)} fields")
    for value, want in zip(values, types, strict=True):
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              if want is float else type(value) is want)
        if not ok:
            raise BadEntry(f"{cls.__name__}: {value!r} is not a {want.__name__}")
    fact: Fact = cls(*values)
    return fact
