"""Messages: PRIVMSG, NOTICE and TAGMSG, and CHATHISTORY to ask for kept ones.

Owns resolving targets (rooms, STATUSMSG prefixes, people), who may speak, client-only
tags and cutting text to fit 512 bytes; what is said is emitted as a fact and
delivered in `hub/apply.py`. Registers into the one command table of `hub/table.py`.
Must not import the session, transport or store layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_server.hub.facts import (
    Said,
    TaggedSaid,
)
from chat_server.hub.model import User
from chat_server.hub.playback import Refused, parse_request
from chat_server.hub.rooms import banned
from chat_server.hub.table import BOT_MODE, SERVICES, command
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import MAX_REST_BYTES, Message, format_tags, split_text

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub


def _chat(hub: Hub, user: User, msg: Message) -> None:
    is_notice = msg.command == "NOTICE"
    if not msg.params or not msg.params[0]:
        if not is_notice:
            hub.reply(user, N.ERR_NORECIPIENT, f"No recipient given ({msg.command})")
        return
    # Client-only tags "MUST be relayed on PRIVMSG and NOTICE messages" (message tags).
    client = {key: value for key, value in msg.tags.items() if key.startswith("+")}
    tags = format_tags(client) if client else ""
    is_tagmsg = msg.command == "TAGMSG"
    text = msg.param(1)
    if is_tagmsg and not tags:
        return  # nothing to deliver
    if BOT_MODE in user.modes:
        # IRCv3 bot mode: what a +B user sends carries the `bot` tag (message-tags only).
        tags = f"bot;{tags}" if tags else "bot"
    if not text and not is_tagmsg:
        if not is_notice:
            hub.reply(user, N.ERR_NOTEXTTOSEND, "No text to send")
        return
    # One delivery per person or room, however the target list spells them.
    targets = list({names.fold(t): t for t in msg.params[0].split(",") if t}.values())
    if len(targets) > hub.settings.limits.max_targets:
        if not is_notice:
            hub.reply(user, N.ERR_TOOMANYTARGETS, targets[-1], "Too many targets")
        return
    for name in targets:
        # STATUSMSG: "@#room" reaches the room's operators, "+#room" voiced and up.
        status = name[0] if name[0] in STATUSMSG and name[1:2] in names.CHANTYPES else ""
        if status or name[0] in names.CHANTYPES:
            room = hub.find_room(name[len(status):])
            if room is None:
                if not is_notice:
                    hub.reply(user, N.ERR_NOSUCHCHANNEL, name, "No such channel")
                continue
            if not room.can_speak(user) or (room.status(user) == "" and banned(room, user)):
                if not is_notice:
                    hub.reply(user, N.ERR_CANNOTSENDTOCHAN, room.name, "Cannot send to channel")
                continue
            for piece in _pieces(hub, user, msg.command, status + room.name, text):
                _said(hub, user, msg.command, status + room.folded, piece, True, tags)
        else:
            found = SERVICES.get(names.fold(name))
            if found is not None:
                if not is_notice and not is_tagmsg:
                    found[1](hub, user, text)
                continue
            target = hub.find_user(name)
            if target is None:
                if not is_notice:
                    hub.reply(user, N.ERR_NOSUCHNICK, name, "No such nick/channel")
                continue
            for piece in _pieces(hub, user, msg.command, target.nick, text):
                _said(hub, user, msg.command, target.uid, piece, False, tags)
            if target.away and not is_notice and not is_tagmsg:
                hub.reply(user, N.RPL_AWAY, target.nick, target.away)


# Membership prefixes a message may be addressed to (ISUPPORT STATUSMSG).
STATUSMSG = "@+"


def _said(hub: Hub, user: User, command: str, target: str, text: str, to_room: bool,
          tags: str) -> None:
    if tags:
        hub.emit(TaggedSaid(user.uid, command, target, text, hub.new_msgid(), hub.stamp(),
                            to_room, tags))
    else:
        hub.emit(Said(user.uid, command, target, text, hub.new_msgid(), hub.stamp(), to_room))


def _pieces(hub: Hub, user: User, command: str, target: str, text: str) -> list[str]:
    """The text as lines each recipient gets within 512 bytes: an IRC client's message
    whose relayed line would pass it (the source the server adds does not fit) is cut
    at a character boundary, as one line, the way other servers do; a plain-mode
    person's long line is split, so that none of it is lost."""
    if not text:
        return [text]  # TAGMSG
    head = len(f":{user.source.prefix} {command} {target} :".encode()) + 2
    pieces = split_text(text, max(MAX_REST_BYTES - head, 64))
    return pieces if user.splits_text else pieces[:1]


@command("PRIVMSG", activity=True,
         usage="PRIVMSG TARGET[,TARGET] :TEXT", help="Send a message to rooms or people.")
def privmsg(hub: Hub, user: User, msg: Message) -> None:
    _chat(hub, user, msg)


@command("TAGMSG", activity=True, usage="@+TAG=VALUE TAGMSG TARGET[,TARGET]",
         help="Send only client tags (typing notices, reactions) to message-tags clients.")
def tagmsg(hub: Hub, user: User, msg: Message) -> None:
    _chat(hub, user, msg)


@command("NOTICE", activity=True,
         usage="NOTICE TARGET[,TARGET] :TEXT", help="Send a notice (never answered automatically).")
def notice(hub: Hub, user: User, msg: Message) -> None:
    _chat(hub, user, msg)


@command("CHATHISTORY",
         usage="CHATHISTORY LATEST|BEFORE|AFTER|AROUND|BETWEEN|TARGETS ...",
         help="Ask for kept messages of a room you are in or a private conversation.")
def chathistory(hub: Hub, user: User, msg: Message) -> None:
    # Every malformed request gets FAIL CHATHISTORY (the spec's standard replies), so
    # the table's parameter count check is not used here.
    try:
        request = parse_request(msg.params, hub.settings.history.chathistory_max)
        hub.ask_history(user, request)
    except Refused as refused:
        hub.history_failed(user, refused)
