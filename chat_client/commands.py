"""The /commands: one registry that both dispatches them and writes their help.

Owns each command's name, usage, help text, argument check and handler. Handlers act
on the `Client` (state and protocol) and never touch the UI, so they behave the same in
full-screen and simple mode. Must not import prompt_toolkit or asyncio.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat_client.state import BufferKind, LineKind
from chat_server.protocol.names import fold, is_valid_nick

if TYPE_CHECKING:
    from chat_client.client import Client

Handler = Callable[["Client", list[str], str], None]


@dataclass(frozen=True, slots=True)
class Command:
    """A command's metadata; `handler(client, args, rest)` runs it once checks pass."""

    name: str
    usage: str
    help: str
    handler: Handler
    min_args: int = 0
    needs_connection: bool = False


class Registry:
    """Commands by name; `dispatch` parses, checks and runs, `help_lines` documents."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def command(self, name: str, usage: str, help: str, *, min_args: int = 0,
                needs_connection: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._commands[name] = Command(name, usage, help, handler, min_args,
                                           needs_connection)
            return handler
        return register

    def names(self) -> list[str]:
        return list(self._commands)

    def get(self, name: str) -> Command | None:
        return self._commands.get(name.lower())

    def dispatch(self, client: Client, line: str) -> None:
        """Run `line` (the text after the slash)."""
        name, _, rest = line.partition(" ")
        command = self.get(name)
        state = client.state
        if command is None:
            state.info(f"Unknown command /{name}. Try /help.", error=True)
            return
        rest = rest.strip()
        args = rest.split()
        if len(args) < command.min_args:
            state.info(f"Usage: {command.usage}", error=True)
            return
        if command.needs_connection and not client.online:
            state.info(f"Not connected: /{name} has to wait until we are back.", error=True)
            return
        command.handler(client, args, rest)
        client.flush()

    def help_lines(self, name: str | None = None) -> list[str]:
        if name:
            command = self.get(name.lstrip("/"))
            if command is None:
                return [f"No command /{name}."]
            return [command.usage, f"  {command.help}"]
        width = max(len(c.usage) for c in self._commands.values())
        return [f"{c.usage:<{width}}  {c.help}" for c in self._commands.values()]


REGISTRY = Registry()
command = REGISTRY.command

# Commands whose arguments hold a password, and the services whose messages may.
_SECRET_COMMANDS = frozenset({"login", "register"})
_SECRET_TARGETS = frozenset({fold("NickServ"), fold("NS")})


def secret_start(text: str) -> int | None:
    """Where the password begins in an input line, to be masked on screen and kept out
    of the input history: after `/login ` and `/register `, and after the first word
    of a `/msg NickServ` (IDENTIFY, REGISTER, ...). None when the line has none."""
    if not text.startswith("/") or text.startswith("//"):
        return None
    words = re.finditer(r"\S+", text)
    first = next(words, None)
    if first is None:
        return None
    name = first.group()[1:].lower()
    if name in _SECRET_COMMANDS:
        return first.end() + 1 if len(text) > first.end() else None
    if name in ("msg", "query"):
        target, what = next(words, None), next(words, None)
        if target is not None and what is not None and fold(target.group()) in _SECRET_TARGETS:
            return what.end() + 1 if len(text) > what.end() else None
    return None


def _room_name(name: str) -> str:
    return name if name[:1] in ("#", "&") else f"#{name}"


@command("join", "/join ROOM [KEY]", "Join a room (the # is optional) and switch to it.",
         min_args=1)
def _join(client: Client, args: list[str], rest: str) -> None:
    room = _room_name(args[0])
    state = client.state
    existing = state.find(room)
    buf = state.open(room, BufferKind.ROOM)
    state.switch_to_buffer(buf)
    if existing is not None and existing.joined:
        return
    if client.online:
        client.protocol.join(room, args[1] if len(args) > 1 else None)
    else:
        state.info(f"Will join {room} once connected.")


@command("part", "/part [ROOM] [REASON]", "Leave a room (this one by default) and close it.")
def _part(client: Client, args: list[str], rest: str) -> None:
    state = client.state
    if args and args[0][:1] in ("#", "&"):
        target = state.find(args[0])
        reason = rest[len(args[0]):].strip()
    else:
        target, reason = state.active, rest
    if target is None or target.kind is not BufferKind.ROOM:
        state.info("Not a room: use /close for private conversations.", error=True)
        return
    if client.online and target.joined:
        client.protocol.part(target.name, reason)
    else:
        state.close(target)


@command("msg", "/msg NICK|ROOM TEXT", "Send one message without switching to it.",
         min_args=2, needs_connection=True)
def _msg(client: Client, args: list[str], rest: str) -> None:
    client.send_message(args[0], rest[len(args[0]):].strip())


@command("query", "/query NICK [TEXT]", "Open a private conversation, optionally saying TEXT.",
         min_args=1)
def _query(client: Client, args: list[str], rest: str) -> None:
    nick = args[0]
    if not is_valid_nick(nick):
        client.state.info(f"Not a nickname: {nick}", error=True)
        return
    buf = client.state.open(nick, BufferKind.QUERY)
    client.state.switch_to_buffer(buf)
    text = rest[len(nick):].strip()
    if text:
        client.send_message(nick, text)


@command("close", "/close", "Close this buffer (leaving the room if it is one).")
def _close(client: Client, args: list[str], rest: str) -> None:
    buf = client.state.active
    if buf.kind is BufferKind.ROOM and buf.joined and client.online:
        client.protocol.part(buf.name, rest)
    else:
        client.state.close(buf)


@command("me", "/me ACTION", "Describe what you are doing: * nick ACTION.", min_args=1)
def _me(client: Client, args: list[str], rest: str) -> None:
    client.say(rest, action=True)


@command("nick", "/nick NEW", "Change your nickname.", min_args=1)
def _nick(client: Client, args: list[str], rest: str) -> None:
    if not is_valid_nick(args[0]):
        client.state.info(f"Not a valid nickname: {args[0]}", error=True)
        return
    client.protocol.change_nick(args[0])
    if not client.online:
        client.state.set_nick(args[0])


@command("topic", "/topic [TEXT]", "Show this room's topic, or set it to TEXT.")
def _topic(client: Client, args: list[str], rest: str) -> None:
    buf = client.state.active
    if buf.kind is not BufferKind.ROOM:
        client.state.info("Topics belong to rooms.", error=True)
    elif rest and client.online:
        client.protocol.topic(buf.name, rest)
    elif rest:
        client.state.info("Not connected: topic not set.", error=True)
    else:
        client.state.info(f"Topic: {buf.topic}" if buf.topic else "No topic is set.")


@command("names", "/names [ROOM]", "List the members of a room.", needs_connection=True)
def _names(client: Client, args: list[str], rest: str) -> None:
    buf = client.state.find(_room_name(args[0])) if args else client.state.active
    if buf is None or buf.kind is not BufferKind.ROOM:
        client.state.info("Not a room you are in.", error=True)
        return
    buf.names_requested = True
    client.protocol.names(buf.name)


@command("away", "/away [MESSAGE]", "Mark yourself away with MESSAGE, or back without one.",
         needs_connection=True)
def _away(client: Client, args: list[str], rest: str) -> None:
    client.protocol.away(rest or None)


@command("list", "/list", "List the server's rooms in the server buffer.",
         needs_connection=True)
def _list(client: Client, args: list[str], rest: str) -> None:
    client.state.switch_to(0)
    client.protocol.list_rooms()


@command("clear", "/clear", "Clear this buffer's scrollback.")
def _clear(client: Client, args: list[str], rest: str) -> None:
    client.state.active.clear()


@command("ignore", "/ignore [NICK]", "Hide (or, again, unhide) a nick's messages; list them.")
def _ignore(client: Client, args: list[str], rest: str) -> None:
    state = client.state
    if not args:
        shown = ", ".join(sorted(state.ignores)) or "nobody"
        state.info(f"Ignoring: {shown}")
        return
    key = fold(args[0])
    if key in state.ignores:
        state.ignores.discard(key)
        state.info(f"No longer ignoring {args[0]}.")
    else:
        state.ignores.add(key)
        state.info(f"Ignoring {args[0]}.")


@command("joins", "/joins", "Hide or show join, part, quit and nick lines in this room.")
def _joins(client: Client, args: list[str], rest: str) -> None:
    buf = client.state.active
    buf.hide_joins = not buf.hide_joins
    buf.scroll = buf.new_below = 0
    client.state.info(
        "Join/part lines hidden here." if buf.hide_joins else "Join/part lines shown here."
    )


@command("members", "/members", "Show or hide the member list (also F2).")
def _members(client: Client, args: list[str], rest: str) -> None:
    client.state.show_members = not client.state.show_members


@command("register", "/register PASSWORD",
         "Register your nickname as an account with PASSWORD, and log in to it.",
         min_args=1, needs_connection=True)
def _register(client: Client, args: list[str], rest: str) -> None:
    if len(args) != 1:
        client.state.info("A password is one word: /register PASSWORD", error=True)
        return
    how = client.protocol.register_account(args[0])
    client.state.info(f"Registering {client.protocol.nick} ({how})…")


@command("login", "/login [ACCOUNT] PASSWORD",
         "Log in to your account (the one named after your nickname without ACCOUNT).",
         min_args=1, needs_connection=True)
def _login(client: Client, args: list[str], rest: str) -> None:
    if len(args) > 2:
        client.state.info("Usage: /login [ACCOUNT] PASSWORD (a password is one word)",
                          error=True)
        return
    account = args[0] if len(args) == 2 else None
    client.protocol.identify(account, args[-1])
    client.state.info(f"Logging in as {account or client.protocol.nick}…")


@command("quote", "/quote LINE", "Send a raw IRC line to the server.", min_args=1,
         needs_connection=True)
def _quote(client: Client, args: list[str], rest: str) -> None:
    client.protocol.raw(rest)


@command("help", "/help [COMMAND]", "Show the commands, or one command's help.")
def _help(client: Client, args: list[str], rest: str) -> None:
    state = client.state
    for line in REGISTRY.help_lines(args[0] if args else None):
        state.add_line(state.active, LineKind.INFO, line)
    if not args:
        state.add_line(
            state.active, LineKind.INFO,
            "Keys: Enter send, Up/Down history, Ctrl+R search, Tab complete, "
            "PgUp/PgDn scroll, Alt+1..9 or Ctrl+N/P switch, Alt+A next activity, "
            "F2 members, Ctrl+C quit.",
        )


@command("quit", "/quit [MESSAGE]", "Leave the server and close the client.")
def _quit(client: Client, args: list[str], rest: str) -> None:
    client.quit(rest or None)
