"""The plain /command table: how each command is typed, what it runs, and its help.

Owns the commands a person types. Each one that touches rooms or people becomes the
hub's own command (the same handlers IRC clients reach), through the session's `run`;
/help is built from this table, which also dispatches. Must not import the rendering
module (what a command leads to is said by the hub's replies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat_server.hub.commands import COMMANDS
from chat_server.protocol import numerics as N
from chat_server.protocol import plain as P
from chat_server.protocol.message import Message
from chat_server.protocol.names import CHANTYPES
from chat_server.protocol.text import number
from chat_server.session.plain.state import Stage, room_name

if TYPE_CHECKING:
    from chat_server.session.plain.session import PlainSession

# /history without N shows as many as a join shows by default.
HISTORY_DEFAULT = 10


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


Runner = Callable[["PlainSession", str], None]


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
        s.change_nick(rest)


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
        s.run(Message("NAMES", (room,)))


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


@plain("history", "[NICK|ROOM] [N]", hub="CHATHISTORY",
       help="Show the last N messages of the current room, another room you are in, "
       "or your private conversation with NICK.")
def _history(s: PlainSession, rest: str) -> None:
    words = rest.split()
    if len(words) > 2 or (len(words) == 2 and number(words[1]) is None):
        s.write(P.error("Usage: /history [NICK|ROOM] [N]"))
        return
    count = HISTORY_DEFAULT
    if words and number(words[-1]) is not None:
        count = number(words.pop()) or 0
    if count < 1:
        s.write(P.error("Show at least 1 message: /history [NICK|ROOM] [N]"))
        return
    if words:
        target: str | None = words[0]
        if words[0][:1] in CHANTYPES:
            target = one_room(s, words[0])
    else:
        target = s.current_room()
    if target is not None:
        s.history(target, count)


@plain("register", "PASSWORD", min_args=1,
       help="Register your nickname as an account with PASSWORD; next time, the "
       "nickname asks for it.")
def _register(s: PlainSession, rest: str) -> None:
    s.register(rest)


@plain("login", "[NAME] PASSWORD", min_args=1, at_prompt=True,
       help="Log in to account NAME (your nickname without NAME); at the nickname "
       "prompt, also take NAME as your nickname.")
def _login(s: PlainSession, rest: str) -> None:
    words = rest.split()
    if len(words) > 2:
        s.write(P.error("Usage: /login [NAME] PASSWORD (a password has no spaces)"))
    elif len(words) == 2:
        s.login(words[0], words[1])
    elif s.stage is Stage.NICK:
        s.write(P.error("Pick a nickname first, or /login NAME PASSWORD:"))
    else:
        s.login(s.user.nick, words[0])


@plain("logout", help="Log out of your account.")
def _logout(s: PlainSession, rest: str) -> None:
    s.logout()


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
