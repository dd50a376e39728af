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

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

Handler = Callable[["Hub", User, Message], None]

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
