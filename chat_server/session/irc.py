"""An IRC connection as the hub sees it: lines in, hub events out as IRC lines.

Owns the IRC dialect of a connection: the size rules of incoming lines, and how each
hub event looks on the wire for the capabilities this client negotiated. Knows the hub
and the protocol package; knows nothing of sockets (it writes through `Link`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from chat_server.hub.events import (
    AccountChanged,
    AwayChanged,
    Chat,
    Closing,
    Comings,
    Event,
    HistoryFailed,
    Invited,
    Joined,
    Kicked,
    ModeChanged,
    NickChanged,
    Parted,
    People,
    Playback,
    PlaybackKind,
    Quit,
    Reply,
    ServerMessage,
    TargetsPlayback,
    TopicChanged,
)
from chat_server.hub.fanout import regroup
from chat_server.hub.hub import Hub
from chat_server.protocol import numerics as N
from chat_server.protocol.errors import ProtocolViolation
from chat_server.protocol.message import (
    MAX_CLIENT_TAGS_BYTES,
    MAX_REST_BYTES,
    format_params,
    format_parts,
    format_tags,
    parse_line,
    parse_tags,
)
from chat_server.session.base import Link, SessionBase


@dataclass(frozen=True, slots=True, eq=False)
class IrcForm:
    """The capabilities that change how a room event is written.

    Compared by identity (a hash done in C on the fan-out path): there is one instance
    per combination, in _FORMS.
    """

    message_tags: bool = False
    server_time: bool = False
    account_tag: bool = False
    account_notify: bool = False
    extended_join: bool = False


# Every possible form, shared by every session instead of one object each.
_FORMS = {key: IrcForm(*key) for key in itertools.product((False, True), repeat=5)}
_NO_CAPS = _FORMS[False, False, False, False, False]


def form_of(caps: frozenset[str]) -> IrcForm:
    return _FORMS["message-tags" in caps, "server-time" in caps, "account-tag" in caps,
                  "account-notify" in caps, "extended-join" in caps]


# Most replies repeat (the welcome burst, ISUPPORT, the MOTD): their parameters are
# formatted once per server rather than once per registration.
_reply_params = lru_cache(maxsize=1024)(format_params)


def iso_time(t: float) -> str:
    """server-time format: ISO 8601 UTC with milliseconds (rounded, as the hub stamps)."""
    millis = round(t * 1000)
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000))
    return f"{whole}.{millis % 1000:03d}Z"


def _tags(form: IrcForm, when: float, msgid: str = "",
          account: str = "") -> dict[str, str] | None:
    """Server tags: time, msgid with message-tags, and the sender's account (account-tag,
    on everything a logged-in person sends)."""
    if not (form.server_time or form.message_tags or (account and form.account_tag)):
        return None
    tags = {"time": iso_time(when)} if form.server_time or form.message_tags else {}
    if form.message_tags and msgid:
        tags["msgid"] = msgid
    if account and form.account_tag:
        tags["account"] = account
    return tags


def _line(tags: dict[str, str] | None, source: str | None, command: str, *params: str) -> bytes:
    return (format_parts(tags, source, command, params) + "\r\n").encode("utf-8", "replace")


def _chat(f: IrcForm, e: Chat, _: str) -> bytes:
    tags = _tags(f, e.time, e.msgid, e.source.account)
    if e.client_tags and f.message_tags:
        # After the server's own tags, as sent ("MUST attach as-is").
        tags = {**(tags or {}), **parse_tags(e.client_tags)}
    if e.command == "TAGMSG":
        # "Servers MUST NOT deliver TAGMSG to clients that haven't negotiated" message-tags.
        return _line(tags, e.source.prefix, "TAGMSG", e.target) if f.message_tags else b""
    return _line(tags, e.source.prefix, e.command, e.target, e.text)


def _joined(f: IrcForm, e: Joined, _: str) -> bytes:
    tags = _tags(f, e.time, e.msgid, e.source.account)
    if f.extended_join:
        return _line(tags, e.source.prefix, "JOIN", e.room, e.source.account or "*", e.realname)
    return _line(tags, e.source.prefix, "JOIN", e.room)


def _parted(f: IrcForm, e: Parted, _: str) -> bytes:
    params = (e.room, e.reason) if e.reason else (e.room,)
    return _line(_tags(f, e.time, e.msgid, e.source.account), e.source.prefix, "PART", *params)


def _quit(f: IrcForm, e: Quit, _: str) -> bytes:
    return _line(_tags(f, e.time, e.msgid, e.source.account), e.source.prefix, "QUIT",
                 e.reason)


def _nick(f: IrcForm, e: NickChanged, _: str) -> bytes:
    return _line(_tags(f, e.time, e.msgid, e.source.account), e.source.prefix, "NICK",
                 e.new_nick)


def _topic(f: IrcForm, e: TopicChanged, _: str) -> bytes:
    return _line(_tags(f, e.time, e.msgid, e.source.account), e.source.prefix, "TOPIC",
                 e.room, e.topic)


def _kicked(f: IrcForm, e: Kicked, _: str) -> bytes:
    return _line(_tags(f, e.time, e.msgid, e.source.account), e.source.prefix, "KICK",
                 e.room, e.nick, e.reason)


def _mode(f: IrcForm, e: ModeChanged, server: str) -> bytes:
    if e.source is None:
        return _line(_tags(f, e.time, e.msgid), server, "MODE", e.target, e.modes, *e.args)
    return _line(_tags(f, e.time, e.msgid, e.source.account), e.source.prefix, "MODE",
                 e.target, e.modes, *e.args)


def _away(f: IrcForm, e: AwayChanged, _: str) -> bytes:
    params = (e.text,) if e.text else ()
    return _line(_tags(f, e.time, "", e.source.account), e.source.prefix, "AWAY", *params)


def _account(f: IrcForm, e: AccountChanged, _: str) -> bytes:
    """account-notify; its account tag is the one held until this change, as in the
    account-tag spec's example (`@account=hax0r :user ACCOUNT bob`)."""
    if not f.account_notify:
        return b""
    return _line(_tags(f, e.time, "", e.source.account), e.source.prefix, "ACCOUNT",
                 e.account or "*")


def _invited(f: IrcForm, e: Invited, _: str) -> bytes:
    return _line(_tags(f, e.time, "", e.source.account), e.source.prefix, "INVITE", e.nick,
                 e.room)


def _comings(f: IrcForm, e: Comings, me: str) -> bytes:
    # IRC members are told of each change at once (hub/arrivals.py); should a tick's
    # summary reach one anyway, it reads as the JOINs, PARTs and QUITs it stands for.
    return b"".join(_ROOM_RENDERERS[type(c)](f, c, me) for c in e.changes)


def _server_message(f: IrcForm, e: ServerMessage, _: str) -> bytes:
    return e.message.to_bytes()


_ROOM_RENDERERS: dict[type, Callable[[IrcForm, Any, str], bytes]] = {
    Chat: _chat,
    Joined: _joined,
    Parted: _parted,
    Quit: _quit,
    Comings: _comings,
    NickChanged: _nick,
    TopicChanged: _topic,
    Kicked: _kicked,
    ModeChanged: _mode,
    AwayChanged: _away,
    AccountChanged: _account,
    Invited: _invited,
    ServerMessage: _server_message,
}


# Batch references only need to be unique on one connection; one counter serves all.
_batch_ids = itertools.count(1)


def _in_batch(ref: str, line: bytes) -> bytes:
    """The line with a `batch` tag added to the tags it has (or as its only tag)."""
    return _tagged(f"batch={ref}".encode(), line)


def _tagged(tag: bytes, line: bytes) -> bytes:
    return b"@" + tag + b";" + line[1:] if line.startswith(b"@") else b"@" + tag + b" " + line


def _labeled(label: str, server: str, data: bytes) -> bytes:
    """A labeled command's whole response (IRCv3 labeled-response): an ACK for none, the
    label on a single line, or a labeled batch around several. Lines already inside a
    batch of their own (a playback) stay in it; its BATCH lines join the labeled one."""
    tag = format_tags({"label": label}).encode()
    lines = data.splitlines(keepends=True)
    if not lines:
        return _line({"label": label}, server, "ACK")
    if len(lines) == 1:
        return _tagged(tag, lines[0])
    ref = f"l{next(_batch_ids)}"
    inner = b"".join(line if line.startswith(b"@batch=") else _in_batch(ref, line)
                     for line in lines)
    return (_tagged(tag, _line(None, server, "BATCH", "+" + ref, "labeled-response"))
            + inner + _line(None, server, "BATCH", "-" + ref))


def visible_time(t: float) -> str:
    """The time a replayed line shows in its text, for a client that could not show a tag's."""
    return time.strftime("[%Y-%m-%d %H:%M UTC] ", time.gmtime(round(t)))


def _with_visible_time(event: Event) -> Event:
    if not isinstance(event, Chat):
        return event
    when = visible_time(event.time)
    action = "\x01ACTION "
    if event.text.startswith(action):
        return replace(event, text=action + when + event.text[len(action):])
    return replace(event, text=when + event.text)


@lru_cache(maxsize=1024)
def _replayed(form: IrcForm, event: Event, server: str, visible: bool) -> bytes:
    """A line replayed on join: everyone joining a room gets the same last lines (the
    hub hands the same event objects), so each is rendered once per form."""
    if visible:
        event = _with_visible_time(event)
    return _ROOM_RENDERERS[type(event)](form, event, server)


class IrcSession(SessionBase):
    """Bridges one connection to the hub in the IRC dialect; is the hub's Peer for it."""

    __slots__ = ("form", "response_label")

    def __init__(self, hub: Hub, link: Link) -> None:
        self.form = _NO_CAPS
        # The label of the command being run (labeled-response), until its response
        # is written.
        self.response_label = ""
        super().__init__(hub, link, self)

    # -- Peer (called by the hub) -------------------------------------------------

    def render(self, event: Event) -> bytes:
        renderer = _ROOM_RENDERERS.get(type(event))
        if renderer is not None:
            return renderer(self.form, event, self.hub.settings.name)
        if isinstance(event, Reply):
            # Nick and server name are checked names: only the parameters need cleaning.
            return (f":{self.hub.settings.name} {event.numeric} {self.user.label}"
                    f"{_reply_params(event.params)}\r\n").encode("utf-8", "replace")
        if isinstance(event, People):
            # Sent to forms that summarise only (plain mode's, hub/rooms.py): should one
            # reach an IRC client, it reads as NAMES of the names it has.
            return self.render(Reply(N.RPL_NAMREPLY, ("=", event.room, " ".join(event.nicks)))
                               ) + self.render(Reply(N.RPL_ENDOFNAMES,
                                                     (event.room, "End of /NAMES list")))
        if isinstance(event, Closing):
            return _line(None, None, "ERROR", f"Closing Link: {self.user.host} ({event.reason})")
        if isinstance(event, Playback):
            return self._playback(event)
        if isinstance(event, TargetsPlayback):
            return self._targets(event)
        if isinstance(event, HistoryFailed):
            return _line(None, self.hub.settings.name, "FAIL", "CHATHISTORY", event.code,
                         *event.context, event.description)
        raise TypeError(f"no IRC rendering for {type(event).__name__}")

    def respond(self, events: list[Event]) -> None:
        """A command's whole answer (or what an applied fact of theirs led to), at once;
        the capabilities it negotiated decide how later room events are written."""
        form = form_of(self.user.caps)
        if form is not self.form:
            self.form = form
            regroup(self.user)
        render = self.render
        data = b"".join([render(event) for event in events])
        if self.response_label:
            data = _labeled(self.response_label, self.hub.settings.name, data)
            self.response_label = ""
        self.write(data)

    # -- history -------------------------------------------------------------------

    def _playback(self, e: Playback) -> bytes:
        """Kept lines with their own time and msgid tags, in a chathistory batch when
        the client takes batches.

        Replay on join reaches clients that did not ask: without a batch it is framed
        by two server notices in the room. A client that takes neither batches nor
        message tags also gets each message's time in its text ("[2026-12-01 19:03 UTC]
        hello"), server-time or not: irssi 1.4 negotiates server-time and still shows
        such lines at their arrival time, while WeeChat (message-tags) shows the tag's.
        """
        server = self.hub.settings.name
        caps = self.user.caps
        if e.kind is PlaybackKind.JOIN:
            visible = "batch" not in caps and "message-tags" not in caps
            form = self.form
            lines = [_replayed(form, ev, server, visible) for ev in e.events]
        else:
            lines = [_ROOM_RENDERERS[type(ev)](self.form, ev, server) for ev in e.events]
        if "batch" in self.user.caps:
            ref = f"h{next(_batch_ids)}"
            return (_line(None, server, "BATCH", "+" + ref, "chathistory", e.target)
                    + b"".join(_in_batch(ref, line) for line in lines)
                    + _line(None, server, "BATCH", "-" + ref))
        if e.kind is PlaybackKind.JOIN:
            return (_line(None, server, "NOTICE", e.target, f"--- earlier in {e.target} ---")
                    + b"".join(lines)
                    + _line(None, server, "NOTICE", e.target, "--- now ---"))
        return b"".join(lines)

    def _targets(self, e: TargetsPlayback) -> bytes:
        server = self.hub.settings.name
        lines = [_line(None, server, "CHATHISTORY", "TARGETS", name, iso_time(when))
                 for name, when in e.rows]
        if "batch" not in self.user.caps:
            return b"".join(lines)
        ref = f"h{next(_batch_ids)}"
        return (_line(None, server, "BATCH", "+" + ref, "draft/chathistory-targets")
                + b"".join(_in_batch(ref, line) for line in lines)
                + _line(None, server, "BATCH", "-" + ref))

    # -- Session (called by the transport) ----------------------------------------

    def on_line(self, raw: bytes) -> None:
        if not raw.strip():
            return  # "Empty messages are silently ignored" (RFC 2812 2.3.1)
        tag_len = raw.find(b" ") + 1 if raw.startswith(b"@") else 0
        # The tag section counts without its '@' and the space after it.
        if tag_len > MAX_CLIENT_TAGS_BYTES + 2 or len(raw) - tag_len > MAX_REST_BYTES - 2:
            self.on_overlong()
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._invalid_utf8(raw)
            return
        try:
            msg = parse_line(text)
        except ProtocolViolation as exc:
            self.hub.reply(self.user, N.ERR_UNKNOWNERROR, "*", f"Malformed line: {exc}")
            return
        label = msg.tags.get("label", "")
        if not label or "labeled-response" not in self.user.caps:
            self.hub.handle(self.user, msg)
            return
        self.response_label = label
        try:
            self.hub.handle(self.user, msg)
        finally:
            if self.response_label:  # nothing was said in answer: "a labeled ACK"
                self.response_label = ""
                self.write(_labeled(label, self.hub.settings.name, b""))

    def _invalid_utf8(self, raw: bytes) -> None:
        """UTF8ONLY: "Servers publishing this token MUST NOT relay content ... containing
        non-UTF-8 data"; the line is refused with FAIL <command> INVALID_UTF8 (FAIL * when
        even the command cannot be read)."""
        try:
            command = parse_line(raw.decode("utf-8", "replace")).command
        except ProtocolViolation:
            command = "*"
        if not command.isascii() or not command.isalnum():
            command = "*"
        self.hub.send_line(self.user, "FAIL", command, "INVALID_UTF8",
                           "Message rejected: it is not valid UTF-8")

    def on_overlong(self) -> None:
        self.hub.reply(self.user, N.ERR_INPUTTOOLONG, "Input line was too long")

    def on_idle(self) -> None:
        self.hub.send_line(self.user, "PING", self.hub.settings.name)
