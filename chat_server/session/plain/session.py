"""A plain-text connection (netcat, telnet) as the hub sees it: typed lines in, readable lines out.

Owns the state of one plain connection: the nickname prompt, the current room, and
turning what a person types into hub commands through the /command table; a command's
answer arrives as one response (`respond`), read as a whole. How each event reads is
the rendering module's business. Knows the hub and the protocol package; knows nothing
of sockets (it writes through `Link`) or of asyncio.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from chat_server.hub.accounts import (
    Account,
    check_password,
    log_in,
    log_out,
    nick_owner,
)
from chat_server.hub.events import Event, Joined, Parted, Reply
from chat_server.hub.fanout import regroup
from chat_server.hub.hub import Hub
from chat_server.hub.table import SERVICES
from chat_server.protocol import plain as P
from chat_server.protocol.message import Message
from chat_server.protocol.names import fold
from chat_server.session.base import Link, SessionBase
from chat_server.session.plain.commands import HELP_ORDER, PLAIN_COMMANDS
from chat_server.session.plain.render import render, render_response
from chat_server.session.plain.state import FORMS, Stage, room_name

# What a registered nickname is answered (docs/PLAIN-MODE.md).
PASSWORD_PROMPT = "This nickname is registered. Password:"
# At the password prompt these and /help are commands; any other line is the password.
PASSWORD_PROMPT_COMMANDS = frozenset({"/nick", "/quit"})


class PlainSession(SessionBase):
    """Bridges one connection to the hub in plain mode; is the hub's Peer for it."""

    __slots__ = (
        "checking",
        "claiming",
        "current",
        "current_name",
        "default_room",
        "form",
        "max_line",
        "personal",
        "quitting",
        "replaying",
        "stage",
        "timestamps",
        "typed_ahead",
    )

    def __init__(self, hub: Hub, link: Link, default_room: str) -> None:
        self.default_room = room_name(default_room)
        limits = hub.settings.limits
        # The framer already drops lines past max_line_bytes; the smaller bound is the one
        # a person can meet.
        self.max_line = min(limits.plain_max_line, limits.max_line_bytes)
        self.stage = Stage.NICK
        self.timestamps = True
        # The fan-out key: shared with every plain session of the same kind.
        self.form: Hashable = FORMS[True]
        # True while a response is rendered: the events of one's own command (one's
        # own nick change) read personally.
        self.personal = False
        self.quitting = False
        # The room plain lines go to ("the room joined or switched to last"), folded and
        # as displayed; "" for none.
        self.current = ""
        self.current_name = ""
        # True while kept lines are rendered: times from another day then show the date.
        self.replaying = False
        # The registered nickname whose password is asked for (Stage.PASSWORD).
        self.claiming = ""
        # True while a password is checked off the loop; what is typed meanwhile waits
        # in typed_ahead, so that it reads as the check's outcome says (a line typed
        # after the password is said in a room only once the login let the person in).
        self.checking = False
        self.typed_ahead: list[bytes] = []
        super().__init__(hub, link, self)
        # Plain users see their own messages come back, placed in the room's order.
        self.user.caps = frozenset({"echo-message"})
        # Their long lines reach IRC room-mates as several lines, none lost.
        self.user.splits_text = True
        self._greet()

    # -- Peer (called by the hub) -------------------------------------------------

    def render(self, event: Event) -> bytes:
        return render(self, event)

    def respond(self, events: list[Event]) -> None:
        """A command's whole answer: a join with its topic and people reads as one line.
        What it changed decides what comes next (the first join, the current room)."""
        self.personal = True
        try:
            data = render_response(self, events)
        finally:
            self.personal = False
        if data:
            self.write(data)
        self._follow(events)

    def close(self, reason: str) -> None:
        self.stage = Stage.CLOSED
        self.link.close(reason)

    # -- Session (called by the transport) ----------------------------------------

    def on_line(self, raw: bytes) -> None:
        if self.stage is Stage.CLOSED:
            return
        if self.checking:
            self.typed_ahead.append(raw)
            return
        if len(raw) > self.max_line:
            self.on_overlong()
            return
        typed = P.clean_input(raw)
        text = typed.text
        if self.stage is Stage.PASSWORD:
            self._password_line(typed)
            return
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
        self.write(self.stamped(self.hub.clock(),
                                 "* Still there? Press Enter to stay connected."))

    # -- what a person does -------------------------------------------------------

    def run(self, msg: Message) -> None:
        """Hand one translated command to the hub; its answer comes to `respond`."""
        self.hub.handle(self.user, msg)

    def choose_nick(self, nick: str) -> None:
        """Register with the chosen nickname; the welcome leads to the default room. A
        registered nickname is taken only with its password."""
        if self._needs_password(nick):
            self._ask_password(nick)
            return
        self._register_as(nick)

    def change_nick(self, nick: str) -> None:
        """/nick once in: a registered nickname asks for its password first."""
        if self._needs_password(nick):
            self._ask_password(nick)
            return
        self.run(Message("NICK", (nick,)))

    def _register_as(self, nick: str) -> None:
        self.run(Message("NICK", (nick,)))
        if not self.user.nick:
            return  # the hub said why, and the error line asks again
        self.run(Message("USER", (nick, "0", "*", nick)))

    def _follow(self, events: list[Event]) -> None:
        """What a response leads to: the welcome to the first join, a join to a new
        current room, leaving the current room to talking in another."""
        if self.stage is Stage.NICK:
            if self.user.registered:
                self.stage = Stage.JOINING
                self.run(Message("JOIN", (self.default_room,)))
            return
        entered = left = refused = False
        for event in events:
            if isinstance(event, Joined) and self.is_me(event.source.nick):
                entered = self._enter(event.room) or entered
            elif isinstance(event, Parted) and self.is_me(event.source.nick):
                left = True
            elif isinstance(event, Reply) and P.is_error(event.numeric):
                refused = True
        if self.stage is Stage.JOINING and (entered or refused):
            self.stage = Stage.CHAT
            if not entered:
                # Could not join (banned, invite-only): the hub's error came first.
                self.write(P.line(f"Welcome, {self.user.nick}. Type /help for commands; "
                                  "/join a room to talk."))
        if left and self.current and self.current not in self.user.rooms:
            self._left_current()

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
        room = self.user.rooms.get(self.current)
        if room is not None:
            return room.name
        if self.current:
            rooms = P.listing([r.name for r in self.user.rooms.values()]) or "none"
            self.write(P.error(f"You are not in {self.current_name} any more; /join it again "
                               f"or /switch to another (you are in: {rooms})."))
        else:
            self.write(P.error("You are not in a room; /join ROOM first."))
        return None

    def join(self, name: str, key: str) -> None:
        if fold(name) in self.user.rooms:
            self.switch(name)
            return
        self.run(Message("JOIN", (name, key) if key else (name,)))

    def switch(self, name: str) -> None:
        room = self.user.rooms.get(fold(name))
        if room is None:
            self.write(P.error(f"You are not in {name}; /join {name} first."))
            return
        self.current, self.current_name = room.folded, room.name
        self.write(self.stamped(self.hub.clock(), f"* Now talking in {room.name}."))

    def part(self, name: str, reason: str) -> None:
        self.run(Message("PART", (name, reason) if reason else (name,)))

    def _left_current(self) -> None:
        # The current room was left: talk in the room joined last, as if switched to.
        rooms = list(self.user.rooms.values())
        if rooms:
            self.switch(rooms[-1].name)
        else:
            self.current = self.current_name = ""
            self.write(self.stamped(self.hub.clock(),
                                     "* You are in no room now; /join one to talk."))

    def quit(self, message: str) -> None:
        self.quitting = True
        self.run(Message("QUIT", (message,) if message else ()))

    def set_timestamps(self, on: bool) -> None:
        self.timestamps = on
        self.form = FORMS[on]
        regroup(self.user)
        self.write(self.stamped(self.hub.clock(),
                                 f"* Timestamps {'on' if on else 'off'}."))

    def show_time(self) -> None:
        now = self.hub.clock()
        state = "on" if self.timestamps else "off"
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
        elif self.stage is Stage.PASSWORD:
            self.write(P.line(PASSWORD_PROMPT))

    def history(self, target: str, count: int) -> None:
        """The last `count` messages of a room or a private conversation; they arrive
        when the store answers, framed by divider lines."""
        self.run(Message("CHATHISTORY", ("LATEST", target, "*", str(count))))

    # -- accounts -------------------------------------------------------------------

    def _needs_password(self, nick: str) -> bool:
        """Whether taking `nick` asks for its password: it is registered to an account
        this person is not logged in to, nick protection is on, and nobody holds it
        (then the hub says it is taken, without a password being typed in vain)."""
        hub = self.hub
        if hub.settings.accounts.nick_protection == "off" or fold(nick) in SERVICES:
            return False
        owner = nick_owner(hub, nick)
        if owner is None or fold(self.user.account) == owner.folded:
            return False
        holder = hub.find_user(nick)
        return holder is None or holder is self.user

    def _ask_password(self, nick: str) -> None:
        self.stage = Stage.PASSWORD
        self.claiming = nick
        self.write(P.line(f"* {nick} belongs to an account: {self._way_out()}."))
        self.write(P.line(PASSWORD_PROMPT))

    def _way_out(self) -> str:
        if self.user.registered:
            return f"an empty line keeps you {self.user.nick}"
        return "an empty line or /nick OTHER picks another nickname"

    def _password_line(self, typed: P.TypedLine) -> None:
        """A line at the password prompt: the password, or one of the ways out. The
        password goes to the check and nowhere else: not to a room, not to history,
        not back to the screen."""
        text = typed.text.strip()
        name = text.split(maxsplit=1)[0].lower() if text else ""
        if name == "/help":
            self.show_help(text[len(name):].strip())
            return
        if not text or name in PASSWORD_PROMPT_COMMANDS:
            self.claiming = ""
            self.stage = Stage.CHAT if self.user.registered else Stage.NICK
            if text:
                self.command(text[1:])
            elif self.user.registered:
                self.write(self.stamped(self.hub.clock(), f"* You are still {self.user.nick}."))
            else:
                self.write(P.line("Pick a nickname:"))
            return
        if not typed.valid_utf8:
            self.write(P.error("That was not valid UTF-8; type the password again:"))
            return
        nick = self.claiming
        self.check_login(nick, text, lambda: self._take(nick))

    def _take(self, nick: str) -> None:
        """Logged in to the nickname asked for: take it."""
        self.claiming = ""
        if self.user.registered:
            self.stage = Stage.CHAT
            if nick != self.user.nick:
                self.run(Message("NICK", (nick,)))
        else:
            self.stage = Stage.NICK
            self._register_as(nick)

    def check_login(self, name: str, password: str, then: Callable[[], None]) -> None:
        """Check `password` for account `name` (off the loop, within the brute-force
        limits); logged in, run `then`. Lines typed meanwhile wait for the answer."""
        self.checking = True

        def done(account: Account | None, why: str) -> None:
            self.checking = False
            if account is None:
                if self.stage is Stage.PASSWORD:
                    self.write(P.error(f"{why}. Password ({self._way_out()}):"))
                elif self.stage is Stage.NICK:
                    self.write(P.error(f"{why}; you are not logged in. Pick a nickname:"))
                else:
                    self.write(P.error(f"{why}; you are not logged in."))
            else:
                log_in(self.hub, self.user, account)
                then()
            # What the login led to is read before the lines typed after it: the
            # welcome first, then what was typed ahead, in the room it led to.
            self.hub.flush(self.user)
            waiting, self.typed_ahead = self.typed_ahead, []
            for raw in waiting:
                self.on_line(raw)

        check_password(self.hub, self.user, name, password, done)

    def login(self, name: str, password: str) -> None:
        """/login: at the nickname prompt it also picks NAME; once in, it logs in
        without changing the nickname, as NickServ IDENTIFY does."""
        account = self.user.account
        if account:
            self.write(P.error(f"You are logged in as {account} already; /logout first."))
        elif self.stage is Stage.NICK:
            self.check_login(name, password, lambda: self._register_as(name))
        else:
            self.check_login(name, password, lambda: None)

    def logout(self) -> None:
        if not self.user.account:
            self.write(P.error("You are not logged in."))
            return
        log_out(self.hub, self.user)

    def register(self, password: str) -> None:
        """/register: the current nickname becomes an account, through NickServ. What
        is plainly wrong is said here as a `! ` line; NickServ answers the rest."""
        user, settings = self.user, self.hub.settings.accounts
        if settings.registration != "open":
            self.write(P.error("Registration is closed on this server."))
        elif user.account:
            self.write(P.error(f"You are logged in as {user.account} already."))
        elif nick_owner(self.hub, user.nick) is not None:
            self.write(P.error(f"{user.nick} is registered already; "
                               "/login PASSWORD if it is yours."))
        elif len(password.split()) != 1:
            self.write(P.error("A password is one word, without spaces: /register PASSWORD"))
        elif len(password) < settings.min_password:
            self.write(P.error(f"That password is too short: use at least "
                               f"{settings.min_password} characters."))
        elif len(password.encode()) > settings.max_password:
            self.write(P.error(f"That password is too long: at most "
                               f"{settings.max_password} bytes."))
        else:
            self.run(Message("PRIVMSG", ("NickServ", f"REGISTER {password}")))

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
        self.current, self.current_name = room.folded, room.name
        return True

    def stamped(self, when: float, body: str) -> bytes:
        """A line of the conversation at `when`; a kept line from another day shows
        the date too, so yesterday's 19:03 does not read as today's."""
        dated = self.replaying and P.day(when) != P.day(self.hub.clock())
        return P.stamped(when, body, self.timestamps, dated)

    def is_me(self, nick: str) -> bool:
        return fold(nick) == self.user.folded
