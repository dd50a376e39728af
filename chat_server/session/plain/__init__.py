"""Plain mode: a person at netcat or telnet (docs/PLAIN-MODE.md).

The session's state (`session`), how events read (`render`) and the /command table
(`commands`) live apart; this package exports what the rest of the server and its
tests use.
"""

from chat_server.session.plain.commands import HELP_ORDER, PLAIN_COMMANDS, PlainCommand
from chat_server.session.plain.session import PlainSession
from chat_server.session.plain.state import PlainForm, Stage, room_name

__all__ = [
    "HELP_ORDER",
    "PLAIN_COMMANDS",
    "PlainCommand",
    "PlainForm",
    "PlainSession",
    "Stage",
    "room_name",
]
