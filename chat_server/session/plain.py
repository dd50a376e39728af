"""A plain-text connection (netcat, telnet) as the hub sees it: typed lines in, readable lines out.

Owns the plain dialect of a connection: the nickname prompt, the current room, the
/command table, and how each hub event and reply reads as one line of text. Every
/command that touches rooms or people is translated into the hub's own command (the
same handlers IRC clients reach), so both dialects obey one set of rules; /help is built
from the table that dispatches. Knows the hub and the protocol package; knows nothing of
sockets (it writes through `Link`) or of asyncio.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from chat_server.hub.commands import COMMANDS
from chat_server.hub.events import (
    AwayChanged,
    Chat,
    Closing,
    Event,
    Invited,
    Joined,
    Kicked,
    ModeChanged,
    NickChanged,
    Parted,
    Quit,
    Reply,
    ServerMessage,
    TopicChanged,
)
from chat_server.hub.hub import Hub
from chat_server.protocol import numerics as N
from chat_server.protocol import plain as P
from chat_server.protocol.message import Message
from chat_server.protocol.names import CHANTYPES, fold
from chat_server.session.irc import Link


class Stage(Enum):
    NICK = auto()  # at the nickname prompt: a line is a nickname to try
    CHAT = auto()  # registered: a line is said in the current room or run as a /command
    CLOSED = auto()  # the hub has let go of this user; later lines are ignored


class Gather(Enum):
    """What the topic and NAMES replies of the running command are for."""

    WHO = auto()  # /who: one line listing the room
    JOIN = auto()  # /join: the "joined" line with the topic and the people there
    WELCOME = auto()  # the join after the nickname: the welcome line


@dataclass(frozen=True, slots=True, eq=False)
class PlainForm:
    """What changes how a room event reads for a plain client (one instance per kind)."""

    timestamps: bool


# Shared by every plain session, so all of them get one rendering per room event.
_FORMS = {on: PlainForm(on) for on in (False, True)}

# The IRC welcome burst (and the MOTD that ends it): plain mode greets in its own words.
_WELCOME_BURST = frozenset({
    N.RPL_WELCOME, N.RPL_YOURHOST, N.RPL_CREATED, N.RPL_MYINFO, N.RPL_ISUPPORT,
    N.RPL_LUSERCLIENT, N.RPL_LUSEROP, N.RPL_LUSERUNKNOWN, N.RPL_LUSERCHANNELS,
    N.RPL_LUSERME, N.RPL_LOCALUSERS, N.RPL_GLOBALUSERS,
    N.RPL_MOTDSTART, N.RPL_MOTD, N.RPL_ENDOFMOTD, N.ERR_NOMOTD,
})
# Replies that only complete another one, or only matter to IRC clients.
_SILENT_REPLIES = frozenset({
    N.RPL_TOPICWHOTIME, N.RPL_CREATIONTIME, N.RPL_WHOISSERVER, N.RPL_ENDOFWHOIS,
})


def room_name(text: str) -> str:
    """"Room names may be given with or without the leading #" (PLAIN-MODE.md)."""
    return text if text[:1] in CHANTYPES else "#" + text


def one_room(s: PlainSession, text: str) -> str | None:
    """The room a plain command names; None, after saying why, for a list like "a,b".

    IRC's JOIN and PART take comma-separated lists; plain commands take one room, so a
    comma is simply not part of a valid name here.
    """
    name = room_name(text)
    if "," in name:
        s.write(P.error(P.error_text(N.ERR_BADCHANMASK, (name,), at_prompt=False)))
        return None
    return name


def _strip_prefix(entry: str) -> str:
    return entry.lstrip("@+")


class PlainSession:
    """Bridges one connection to the hub in plain mode; is the hub's Peer for it."""

    __slots__ = (
        "_current",
        "_current_name",
        "_gather",
        "_joined_at",
        "_names",
        "_personal",
        "_quitting",
        "_rows",
        "_timestamps",
        "_topic",
        "default_room",
        "form",
        "hub",
        "link",
        "max_line",
        "stage",
        "user",
        "write",
    )

    def __init__(self, hub: Hub, link: Link, default_room: str) -> None:
        self.hub = hub
        self.link = link
        self.default_room = room_name(default_room)
        limits = hub.settings.limits
        # The framer already drops lines past max_line_bytes; the smaller bound is the one
        # a person can meet.
        self.max_line = min(limits.plain_max_line, limits.max_line_bytes)
        self.stage = Stage.NICK
        self._timestamps = True
        # The fan-out key: shared with every plain session of the same kind, except while
        # this session runs its own command (see run()).
        self.form: Hashable = _FORMS[True]
        # The hub's Peer.write, bound straight to the connection: one call per delivery.
        self.write = link.write
        # True while this session runs its own command: its form is then its own, so the
        # events of that command (its own join, its own nick change) read personally.
        self._personal = False
        self._quitting = False
        # The room plain lines go to ("the room joined or switched to last"), folded and
        # as displayed; "" for none.
        self._current = ""
        self._current_name = ""
        self._gather: Gather | None = None
        self._names: list[str] = []
        self._topic = ""
        self._joined_at = 0.0
        self._rows = 0
        self.user = hub.connect(self, link.remote_host)
        # Plain users see their own messages come back, placed in the room's order.
        self.user.caps = frozenset({"echo-message"})
        self._greet()

    # -- Peer (called by the hub) -------------------------------------------------

    def render(self, event: Event) -> bytes:
        renderer = _RENDERERS.get(type(event))
        if renderer is None:
            raise TypeError(f"no plain rendering for {type(event).__name__}")
        return renderer(self, event)

    def close(self, reason: str) -> None:
        self.stage = Stage.CLOSED
        self.link.close(reason)

    # -- Session (called by the transport) ----------------------------------------

    @property
    def ready(self) -> bool:
        return self.user.registered

    @property
    def label(self) -> str:
        """How logs name this client."""
        return self.user.nick or "-"

    def on_line(self, raw: bytes) -> None:
        if self.stage is Stage.CLOSED:
            return
        if len(raw) > self.max_line:
            self.on_overlong()
            return
        typed = P.clean_input(raw)
        text = typed.text
        if not text.strip():
            return  # an empty line decides nothing and says nothing
        is_command = text.startswith(P.COMMAND_CHAR) and not text.startswith(P.COMMAND_CHAR * 2)
        if self.stage is Stage.NICK and not is_command:
            if not typed.valid_utf8:
                self.write(P.error("That was not valid UTF-8; pick another:"))
                return
            self.choose_nick(text.strip())
            return
        if not typed.valid_utf8:
            self.write(P.error(
                "Your line was not valid UTF-8; the bad bytes are shown as \ufffd. "
                "Is your terminal set to UTF-8?"
            ))
        if is_command:
            self.command(text[1:])
        else:
            self.say(text[1:] if text.startswith(P.COMMAND_CHAR) else text)

    def on_overlong(self) -> None:
        if self.stage is not Stage.CLOSED:
            self.write(P.error(f"Line too long (max {self.max_line} bytes); not sent."))

    def on_idle(self) -> None:
        # A person cannot answer PING; any line, even an empty one, shows they are there.
        self.write(self._stamped(self.hub.clock(),
                                 "* Still there? Press Enter to stay connected."))

    def terminate(self, reason: str) -> None:
        """The transport is dropping this client (timeouts, flood, SendQ): say why."""
        self.hub.disconnect(self.user, reason, tell_user=reason)

    def connection_lost(self, reason: str) -> None:
        self.hub.disconnect(self.user, reason)

    # -- what a person does -------------------------------------------------------

    def run(self, msg: Message, gather: Gather | None = None) -> None:
        """Hand one translated command to the hub, with this session's form its own."""
        self._personal = True
        self.form = self
        self._gather = gather
        try:
            self.hub.handle(self.user, msg)
        finally:
            self._personal = False
            self.form = _FORMS[self._timestamps]
            self._gather = None
            self._names = []
            self._topic = ""

    def choose_nick(self, nick: str) -> None:
        """Register with the chosen nickname, then join the default room."""
        self.run(Message("NICK", (nick,)))
        if not self.user.nick:
            return  # the hub said why, and the error line asks again
        self.run(Message("USER", (nick, "0", "*", nick)))
        if not self.user.registered:
            return  # the server wants a password plain mode cannot give; it said so
        self.stage = Stage.CHAT
        self.run(Message("JOIN", (self.default_room,)), Gather.WELCOME)
        if not self._enter(self.default_room):
            # Could not join (banned, invite-only): the hub's error came first.
            self.write(P.line(f"Welcome, {self.user.nick}. Type /help for commands; "
                              "/join a room to talk."))

    def command(self, text: str) -> None:
        name, _, rest = text.partition(" ")
        name = name.lower()
        cmd = PLAIN_COMMANDS.get(name)
        if cmd is None:
            self.write(P.error(f"Unknown command /{name} — try /help"))
            return
        if self.stage is Stage.NICK and not cmd.at_prompt:
            self.write(P.error("Pick a nickname first:"))
            return
        if len(rest.split()) < cmd.min_args:
            self.write(P.error(f"Usage: {cmd.usage}"))
            return
        cmd.run(self, rest.strip())

    def say(self, text: str) -> None:
        room = self.current_room()
        if room is not None:
            self.run(Message("PRIVMSG", (room, text)))

    def current_room(self) -> str | None:
        """The current room's name; None, after telling the person, when there is none."""
        room = self.user.rooms.get(self._current)
        if room is not None:
            return room.name
        if self._current:
            rooms = P.listing([r.name for r in self.user.rooms.values()]) or "none"
            self.write(P.error(f"You are not in {self._current_name} any more; /join it again "
                               f"or /switch to another (you are in: {rooms})."))
        else:
            self.write(P.error("You are not in a room; /join ROOM first."))
        return None

    def join(self, name: str, key: str) -> None:
        if fold(name) in self.user.rooms:
            self.switch(name)
            return
        self.run(Message("JOIN", (name, key) if key else (name,)), Gather.JOIN)
        self._enter(name)

    def switch(self, name: str) -> None:
        room = self.user.rooms.get(fold(name))
        if room is None:
            self.write(P.error(f"You are not in {name}; /join {name} first."))
            return
        self._current, self._current_name = room.folded, room.name
        self.write(self._stamped(self.hub.clock(), f"* Now talking in {room.name}."))

    def part(self, name: str, reason: str) -> None:
        self.run(Message("PART", (name, reason) if reason else (name,)))
        if self._current in self.user.rooms or not self._current:
            return
        # The current room was left: talk in the room joined last, as if switched to.
        rooms = list(self.user.rooms.values())
        if rooms:
            self.switch(rooms[-1].name)
        else:
            self._current = self._current_name = ""
            self.write(self._stamped(self.hub.clock(),
                                     "* You are in no room now; /join one to talk."))

    def quit(self, message: str) -> None:
        self._quitting = True
        self.run(Message("QUIT", (message,) if message else ()))

    def set_timestamps(self, on: bool) -> None:
        self._timestamps = on
        if not self._personal:
            self.form = _FORMS[on]
        self.write(self._stamped(self.hub.clock(),
                                 f"* Timestamps {'on' if on else 'off'}."))

    def show_time(self) -> None:
        now = self.hub.clock()
        state = "on" if self._timestamps else "off"
        self.write(P.line(f"* It is {P.clock(now)} here; timestamps are {state} "
                          "(/time on|off)."))

    def show_help(self, topic: str) -> None:
        name = topic.lstrip(P.COMMAND_CHAR).lower()
        if name:
            cmd = PLAIN_COMMANDS.get(name)
            if cmd is None:
                self.write(P.error(f"No command /{name} — try /help"))
                return
            self.write(P.line(f"{cmd.listed} — {cmd.help}"))
        else:
            self.write(P.line("Commands (/help COMMAND shows one):"))
            width = max(len(c.listed) for c in HELP_ORDER)
            for cmd in HELP_ORDER:
                self.write(P.line(f"  {cmd.listed:<{width}}  {cmd.help}"))
            self.write(P.line("A line without / is said in your current room; "
                              "//text says /text."))
        if self.stage is Stage.NICK:
            self.write(P.line("Pick a nickname:"))

    def not_yet(self, what: str) -> None:
        self.write(P.error(f"{what} is not available yet on this server."))

    # -- helpers ----------------------------------------------------------------

    def _greet(self) -> None:
        hub = self.hub
        people = P.count(len(hub.users), "person", "people")
        rooms = P.count(len(hub.rooms), "room", "rooms")
        self.write(P.line(f"roomchat on {hub.settings.name} — {people} in {rooms}."))
        self.write(P.line("Pick a nickname:"))

    def _enter(self, name: str) -> bool:
        """Make a room just joined the current one; False when the join did not happen."""
        room = self.user.rooms.get(fold(name))
        if room is None:
            return False
        self._current, self._current_name = room.folded, room.name
        return True

    def _stamped(self, when: float, body: str) -> bytes:
        return P.stamped(when, body, self._timestamps)

    def is_me(self, nick: str) -> bool:
        return fold(nick) == self.user.folded

    # -- rendering: room and private events -----------------------------------------

    def _chat(self, e: Chat) -> bytes:
        nick, text = e.source.nick, e.text
        action = P.parse_action(text)
        if action is None and P.is_ctcp(text):
            return b""  # CTCP queries (VERSION, PING) are for IRC clients to answer
        if e.to_room:
            if action is not None:
                body = f"{e.target} * {nick} {action}"
            elif e.command == "NOTICE":
                body = f"{e.target} -{nick}- {text}"
            else:
                body = f"{e.target} <{nick}> {text}"
        elif self.is_me(nick):
            if action is not None:
                body = f"-> {e.target}: * {nick} {action}"
            elif e.command == "NOTICE":
                body = f"-> -{e.target}- {text}"
            else:
                body = f"-> {e.target}: {text}"
        elif action is not None:
            body = f"<- * {nick} {action}"
        elif e.command == "NOTICE":
            body = f"<- -{nick}- {text}"
        else:
            body = f"<- {nick}: {text}"
        return self._stamped(e.time, body)

    def _joined(self, e: Joined) -> bytes:
        if self._gather in (Gather.JOIN, Gather.WELCOME) and self.is_me(e.source.nick):
            # Said once the topic and names have arrived, in one line.
            self._joined_at = e.time
            return b""
        return self._stamped(e.time, f"{e.room} * {e.source.nick} joined.")

    def _parted(self, e: Parted) -> bytes:
        why = f" ({e.reason})" if e.reason else ""
        return self._stamped(e.time, f"{e.room} * {e.source.nick} left{why}.")

    def _quit(self, e: Quit) -> bytes:
        return self._stamped(e.time, f"* {e.source.nick} has quit ({e.reason}).")

    def _nick(self, e: NickChanged) -> bytes:
        if self._personal and self.is_me(e.source.nick):
            return self._stamped(e.time, f"* You are now known as {e.new_nick}.")
        return self._stamped(e.time, f"* {e.source.nick} is now known as {e.new_nick}.")

    def _topic_changed(self, e: TopicChanged) -> bytes:
        if e.topic:
            return self._stamped(e.time, f"{e.room} * {e.source.nick} set the topic: {e.topic}")
        return self._stamped(e.time, f"{e.room} * {e.source.nick} cleared the topic.")

    def _kicked(self, e: Kicked) -> bytes:
        return self._stamped(e.time, f"{e.room} * {e.source.nick} kicked {e.nick} ({e.reason}).")

    def _mode(self, e: ModeChanged) -> bytes:
        who = e.source.nick if e.source is not None else self.hub.settings.name
        change = " ".join((e.modes, *e.args))
        if e.target[:1] in CHANTYPES:
            return self._stamped(e.time, f"{e.target} * {who} sets mode {change}")
        return self._stamped(e.time, f"* {who} sets mode {change} on {e.target}")

    def _away(self, e: AwayChanged) -> bytes:
        if e.text:
            return self._stamped(e.time, f"* {e.source.nick} is away: {e.text}")
        return self._stamped(e.time, f"* {e.source.nick} is back.")

    def _invited(self, e: Invited) -> bytes:
        return self._stamped(
            e.time, f"* {e.source.nick} invites you to {e.room}: /join {e.room}"
        )

    def _server_message(self, e: ServerMessage) -> bytes:
        msg = e.message
        if msg.command == "NOTICE" and msg.params:
            return self._stamped(self.hub.clock(), f"* {msg.params[-1]}")
        return b""  # PING, PONG and CAP are IRC's business

    def _closing(self, e: Closing) -> bytes:
        if self._quitting:
            return self._stamped(self.hub.clock(), "* Goodbye.")
        return self._stamped(self.hub.clock(), f"* {e.reason}. Goodbye.")

    # -- rendering: replies to this user ------------------------------------------

    def _reply(self, e: Reply) -> bytes:
        numeric, params = e.numeric, e.params
        if numeric in _WELCOME_BURST or numeric in _SILENT_REPLIES:
            return b""
        if P.is_error(numeric):
            return P.error(P.error_text(numeric, params, self.stage is Stage.NICK))
        handler = _REPLIES.get(numeric)
        if handler is not None:
            return handler(self, params)
        return self._now("* " + " ".join(params))

    def _now(self, body: str) -> bytes:
        return self._stamped(self.hub.clock(), body)

    def _topic_reply(self, p: tuple[str, ...]) -> bytes:
        if self._gather in (Gather.JOIN, Gather.WELCOME):
            self._topic = p[1]  # part of the joined or welcome line
            return b""
        return self._now(f"{p[0]} * Topic: {p[1]}")

    def _names_reply(self, p: tuple[str, ...]) -> bytes:
        self._names.extend(p[-1].split())
        return b""

    def _end_of_names(self, p: tuple[str, ...]) -> bytes:
        names, self._names = self._names, []
        room = p[0]
        if self._gather is Gather.WELCOME:
            return self._welcome(room, names)
        if self._gather is Gather.JOIN:
            topic = _sentence(self._topic)
            about = f" Topic: {topic}" if topic else ""
            people = P.listing([_strip_prefix(n) for n in names])
            return self._stamped(
                self._joined_at, f"{room} * {self.user.nick} joined.{about} People: {people}"
            )
        if not names:
            return P.error(f"There is no room {room}, or you cannot see who is in it.")
        return self._now(f"{room} * People ({len(names)}): {P.listing(names)}")

    def _welcome(self, room: str, names: list[str]) -> bytes:
        others = [n for n in map(_strip_prefix, names) if not self.is_me(n)]
        if others:
            people = P.count(len(others) + 1, "person", "people")
            where = f"You are in {room} with {P.listing(others)} ({people})."
        else:
            where = f"You are in {room}, on your own so far."
        data = P.line(f"Welcome, {self.user.nick}. {where} Type /help for commands.")
        if self._topic:
            data += self._stamped(self._joined_at, f"{room} * Topic: {self._topic}")
        return data

    def _list_start(self, p: tuple[str, ...]) -> bytes:
        self._rows = 0
        return b""

    def _list_row(self, p: tuple[str, ...]) -> bytes:
        self._rows += 1
        room, members, about = p[0], p[1], p[2] if len(p) > 2 else ""
        # The hub puts the room's modes first, "[+nt] topic": plain users see the topic.
        topic = about.partition("] ")[2] if about.startswith("[") else about
        people = P.count(int(members), "person", "people") if members.isdigit() else members
        return self._now(f"* {room} ({people}){': ' + topic if topic else ''}")

    def _list_end(self, p: tuple[str, ...]) -> bytes:
        rows, self._rows = self._rows, 0
        return b"" if rows else self._now("* There are no rooms yet; /join one to start it.")

    def _ban_row(self, p: tuple[str, ...]) -> bytes:
        self._rows += 1
        return self._now(f"{p[0]} * Banned: {p[1]} (by {p[2].partition('!')[0]})")

    def _ban_end(self, p: tuple[str, ...]) -> bytes:
        rows, self._rows = self._rows, 0
        return b"" if rows else self._now(f"{p[0]} * Nobody is banned.")

    def _whois_idle(self, p: tuple[str, ...]) -> bytes:
        since = P.clock(float(p[2])) if p[2].isdigit() else p[2]
        return self._now(f"* {p[0]} has been idle {p[1]}s, here since {since}")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


_RENDERERS: dict[type, Callable[[PlainSession, Any], bytes]] = {
    Chat: PlainSession._chat,
    Joined: PlainSession._joined,
    Parted: PlainSession._parted,
    Quit: PlainSession._quit,
    NickChanged: PlainSession._nick,
    TopicChanged: PlainSession._topic_changed,
    Kicked: PlainSession._kicked,
    ModeChanged: PlainSession._mode,
    AwayChanged: PlainSession._away,
    Invited: PlainSession._invited,
    ServerMessage: PlainSession._server_message,
    Closing: PlainSession._closing,
    Reply: PlainSession._reply,
}

_REPLIES: dict[str, Callable[[PlainSession, tuple[str, ...]], bytes]] = {
    N.RPL_TOPIC: PlainSession._topic_reply,
    N.RPL_NOTOPIC: lambda s, p: s._now(f"{p[0]} * No topic is set."),
    N.RPL_NAMREPLY: PlainSession._names_reply,
    N.RPL_ENDOFNAMES: PlainSession._end_of_names,
    N.RPL_LISTSTART: PlainSession._list_start,
    N.RPL_LIST: PlainSession._list_row,
    N.RPL_LISTEND: PlainSession._list_end,
    N.RPL_BANLIST: PlainSession._ban_row,
    N.RPL_ENDOFBANLIST: PlainSession._ban_end,
    N.RPL_CHANNELMODEIS: lambda s, p: s._now(f"{p[0]} * Modes: {' '.join(p[1:])}"),
    N.RPL_UMODEIS: lambda s, p: s._now(f"* Your modes: {p[0]}"),
    N.RPL_AWAY: lambda s, p: s._now(f"* {p[0]} is away: {p[1]}"),
    N.RPL_NOWAWAY: lambda s, p: s._now("* You are marked as away."),
    N.RPL_UNAWAY: lambda s, p: s._now("* You are back."),
    N.RPL_WHOISUSER: lambda s, p: s._now(f"* {p[0]} is {p[1]}@{p[2]} ({p[-1]})"),
    N.RPL_WHOISCHANNELS: lambda s, p: s._now(f"* {p[0]} is in {p[1]}"),
    N.RPL_WHOISIDLE: PlainSession._whois_idle,
    N.RPL_INVITING: lambda s, p: s._now(f"* Invited {p[0]} to {p[1]}."),
}


# -- the /command table ------------------------------------------------------------

Runner = Callable[[PlainSession, str], None]


@dataclass(frozen=True, slots=True)
class PlainCommand:
    """One /command: how it is typed, what it runs, and its help."""

    name: str
    run: Runner
    args: str = ""  # how the arguments are typed, e.g. "ROOM [KEY]"
    min_args: int = 0
    hub_command: str = ""  # the hub command it becomes; "" for plain-only commands
    help_text: str = ""  # "" takes the help of `hub_command` from the hub's table
    aliases: tuple[str, ...] = ()
    at_prompt: bool = False  # usable before a nickname is chosen

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.args}".rstrip()

    @property
    def help(self) -> str:
        return self.help_text or COMMANDS[self.hub_command].help

    @property
    def listed(self) -> str:
        """The usage as /help shows it, with any other names: "/switch ROOM (or /go)"."""
        return self.usage + "".join(f" (or /{a})" for a in self.aliases)


PLAIN_COMMANDS: dict[str, PlainCommand] = {}  # by name and by alias
HELP_ORDER: list[PlainCommand] = []  # each command once, in the order /help lists them


def plain(
    name: str,
    args: str = "",
    *,
    min_args: int = 0,
    hub: str = "",
    help: str = "",
    aliases: tuple[str, ...] = (),
    at_prompt: bool = False,
) -> Callable[[Runner], Runner]:
    def register(fn: Runner) -> Runner:
        if hub and hub not in COMMANDS:
            raise LookupError(f"/{name} maps to {hub}, which the hub does not have")
        cmd = PlainCommand(name, fn, args, min_args, hub, help, aliases, at_prompt)
        for key in (name, *aliases):
            PLAIN_COMMANDS[key] = cmd
        HELP_ORDER.append(cmd)
        return fn

    return register


def _words(rest: str, n: int) -> list[str]:
    """The first n words and then the rest of the line, as typed."""
    return rest.split(None, n)


@plain("help", "[COMMAND]", help="Show the commands, or how to use one.", at_prompt=True)
def _help(s: PlainSession, rest: str) -> None:
    s.show_help(rest)


@plain("nick", "NAME", min_args=1, hub="NICK", at_prompt=True)
def _nick(s: PlainSession, rest: str) -> None:
    if s.stage is Stage.NICK:
        s.choose_nick(rest)
    else:
        s.run(Message("NICK", (rest,)))


@plain("join", "ROOM [KEY]", min_args=1, hub="JOIN",
       help="Join a room (the # is optional) and talk there.")
def _join(s: PlainSession, rest: str) -> None:
    words = rest.split()
    room = one_room(s, words[0])
    if room is not None:
        s.join(room, words[1] if len(words) > 1 else "")


@plain("part", "[ROOM] [REASON]", hub="PART",
       help="Leave a room: the one named, or the current one.")
def _part(s: PlainSession, rest: str) -> None:
    if rest:
        words = _words(rest, 1)
        name = one_room(s, words[0])
        if name is not None:
            s.part(name, words[1] if len(words) > 1 else "")
        return
    room = s.current_room()
    if room is not None:
        s.part(room, "")


@plain("switch", "ROOM", min_args=1, aliases=("go",),
       help="Talk in another room you are in.")
def _switch(s: PlainSession, rest: str) -> None:
    s.switch(room_name(rest.split()[0]))


@plain("rooms", hub="LIST")
def _rooms(s: PlainSession, rest: str) -> None:
    s.run(Message("LIST"))


@plain("who", "[ROOM]", hub="NAMES",
       help="List who is in a room (the current one if none is named); @ marks operators.")
def _who(s: PlainSession, rest: str) -> None:
    room = one_room(s, rest.split()[0]) if rest else s.current_room()
    if room is not None:
        s.run(Message("NAMES", (room,)), Gather.WHO)


@plain("whois", "NICK", min_args=1, hub="WHOIS")
def _whois(s: PlainSession, rest: str) -> None:
    s.run(Message("WHOIS", (rest.split()[0],)))


@plain("msg", "NICK TEXT", min_args=2, hub="PRIVMSG", help="Send a private message.")
def _msg(s: PlainSession, rest: str) -> None:
    target, text = _words(rest, 1)
    s.run(Message("PRIVMSG", (target, text)))


@plain("me", "ACTION", min_args=1, hub="PRIVMSG",
       help="Say what you do, as in \"/me waves\" -> \"* nick waves\".")
def _me(s: PlainSession, rest: str) -> None:
    room = s.current_room()
    if room is not None:
        s.run(Message("PRIVMSG", (room, P.make_action(rest))))


@plain("topic", "[TEXT]", hub="TOPIC", help="Show or set the current room's topic.")
def _topic(s: PlainSession, rest: str) -> None:
    room = s.current_room()
    if room is not None:
        s.run(Message("TOPIC", (room, rest) if rest else (room,)))


@plain("away", "[TEXT]", hub="AWAY")
def _away(s: PlainSession, rest: str) -> None:
    s.run(Message("AWAY", (rest,) if rest else ()))


@plain("history", "[N]", help="Show the current room's last N messages (not available yet).")
def _history(s: PlainSession, rest: str) -> None:
    s.not_yet("History")


@plain("register", "PASSWORD", help="Register your nickname (not available yet).")
def _register(s: PlainSession, rest: str) -> None:
    s.not_yet("Registering a nickname")


@plain("login", "NAME PASSWORD", help="Log in to a registered nickname (not available yet).")
def _login(s: PlainSession, rest: str) -> None:
    s.not_yet("Logging in")


@plain("kick", "NICK [REASON]", min_args=1, hub="KICK",
       help="Remove someone from the current room (operators).")
def _kick(s: PlainSession, rest: str) -> None:
    room = s.current_room()
    if room is not None:
        s.run(Message("KICK", (room, *_words(rest, 1))))


@plain("mode", "[ROOM|NICK] [+|-MODES [ARGS]]", hub="MODE")
def _mode(s: PlainSession, rest: str) -> None:
    words = rest.split()
    first = words[0] if words else ""
    if first and (first[0] in CHANTYPES or s.is_me(first)):
        target, changes = first, words[1:]
    elif first and first[0] not in "+-":
        target, changes = room_name(first), words[1:]
    else:
        room = s.current_room()
        if room is None:
            return
        target, changes = room, words
    s.run(Message("MODE", (target, *changes)))


@plain("time", "[on|off]", help="Show the time, or turn timestamps on or off.")
def _time(s: PlainSession, rest: str) -> None:
    setting = rest.lower()
    if setting in ("on", "off"):
        s.set_timestamps(setting == "on")
    elif not setting:
        s.show_time()
    else:
        s.write(P.error("Usage: /time [on|off]"))


@plain("quit", "[MESSAGE]", hub="QUIT", at_prompt=True)
def _quit(s: PlainSession, rest: str) -> None:
    s.quit(rest)
