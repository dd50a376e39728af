"""Query-only commands beside the main table: HELP, HELPOP and LINKS.

They read the command table and change nothing, so they emit no facts. Registers
into the one command table of `hub/commands.py`. Must not import the session,
transport or store layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_server.hub.commands import COMMANDS, command
from chat_server.hub.model import User
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

# Command names per RPL_HELPTXT line of the index.
INDEX_PER_LINE = 8


def _help(hub: Hub, user: User, msg: Message) -> None:
    """The help of one command, from its entry in the table; the index without one."""
    subject = msg.param(0).upper()
    if not subject:
        documented = sorted(name for name, spec in COMMANDS.items() if spec.help)
        hub.reply(user, N.RPL_HELPSTART, "*", "roomchat commands (HELP COMMAND for one):")
        for i in range(0, len(documented), INDEX_PER_LINE):
            hub.reply(user, N.RPL_HELPTXT, "*", " ".join(documented[i:i + INDEX_PER_LINE]))
        hub.reply(user, N.RPL_ENDOFHELP, "*", "End of /HELP")
        return
    spec = COMMANDS.get(subject)
    if spec is None or not spec.help:
        hub.reply(user, N.ERR_HELPNOTFOUND, subject, "No help available on this topic")
        return
    hub.reply(user, N.RPL_HELPSTART, subject, f"** {spec.usage or subject} **")
    hub.reply(user, N.RPL_HELPTXT, subject, spec.help)
    hub.reply(user, N.RPL_ENDOFHELP, subject, "End of /HELP")


@command("HELP", usage="HELP [COMMAND]", help="Show the commands, or how to use one.")
def help_(hub: Hub, user: User, msg: Message) -> None:
    _help(hub, user, msg)


@command("HELPOP", usage="HELPOP [COMMAND]", help="The same as HELP.")
def helpop(hub: Hub, user: User, msg: Message) -> None:
    _help(hub, user, msg)


@command("LINKS", usage="LINKS", help="Show the servers of the network.")
def links(hub: Hub, user: User, msg: Message) -> None:
    name = hub.settings.name
    hub.reply(user, N.RPL_LINKS, name, name, f"0 {hub.settings.description}")
    hub.reply(user, N.RPL_ENDOFLINKS, "*", "End of /LINKS list")
