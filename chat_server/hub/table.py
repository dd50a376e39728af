"""The command table's machinery: the `Command` record, the one `COMMANDS` table and
the `@command` decorator the concern modules register with, and the few names several
of them share (VERSION, BOT_MODE).

Each entry carries the checks every command needs (parameter count, allowed before
registration) so handlers stay short. Holds no handlers: `hub/commands.py` imports the
modules that do. Must not import any other hub module, nor the session, transport or
store layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat_server import __version__
from chat_server.hub.model import User
from chat_server.protocol.message import Message
from chat_server.protocol.names import fold

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

Handler = Callable[["Hub", User, Message], None]
# A service (NickServ, ChanServ) reads what was said to it: PRIVMSG NickServ :TEXT.
ServiceHandler = Callable[["Hub", User, str], None]

VERSION = f"roomchat-{__version__}"

# User mode B: a bot (ISUPPORT BOT); WHO and WHOIS show it, and what it sends is tagged.
BOT_MODE = "B"

@dataclass(frozen=True, slots=True)
class Command:
    handler: Handler
    min_params: int = 0
    before_registration: bool = False
    # Resets the idle time shown by WHOIS; PING/PONG and queries do not.
    counts_as_activity: bool = False
    usage: str = ""
    help: str = ""


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    *,
    min_params: int = 0,
    before_registration: bool = False,
    activity: bool = False,
    usage: str = "",
    help: str = "",
) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = Command(fn, min_params, before_registration, activity, usage, help)
        return fn

    return register


# Services by folded nick: their nicks can't be taken, and what is said to them reaches
# their handler, never history nor another person (it may hold a password).
SERVICES: dict[str, tuple[str, ServiceHandler]] = {}


def service(nick: str) -> Callable[[ServiceHandler], ServiceHandler]:
    def register(fn: ServiceHandler) -> ServiceHandler:
        SERVICES[fold(nick)] = (nick, fn)
        return fn

    return register
