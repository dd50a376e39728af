"""How hub events and replies read in plain mode: one line of text each (or none).

Owns the words: a renderer per event type and per reply numeric, reading the session's
state (its stage, its timestamps) without changing it, and the reading of a command's
whole response (a join with its topic and people is one line, a listing is counted).
History is rendered by the same renderers, each line with its own time, between two
divider lines. Knows the hub's events and the protocol package; must not
import the plain command table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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
from chat_server.protocol import numerics as N
from chat_server.protocol import plain as P
from chat_server.protocol.names import CHANTYPES, fold
from chat_server.protocol.text import number
from chat_server.session.plain.state import Stage

if TYPE_CHECKING:
    from chat_server.session.plain.session import PlainSession

# The IRC welcome burst (and the MOTD that ends it): plain mode greets in its own words.
_WELCOME_BURST = frozenset({
    N.RPL_WELCOME, N.RPL_YOURHOST, N.RPL_CREATED, N.RPL_MYINFO, N.RPL_ISUPPORT,
    N.RPL_LUSERCLIENT, N.RPL_LUSEROP, N.RPL_LUSERUNKNOWN, N.RPL_LUSERCHANNELS,
    N.RPL_LUSERME, N.RPL_LOCALUSERS, N.RPL_GLOBALUSERS,
    N.RPL_MOTDSTART, N.RPL_MOTD, N.RPL_ENDOFMOTD, N.ERR_NOMOTD,
})
# How NickServ's notices tell IRC users to log in, which plain users do with /login.
_IRC_IDENTIFY = "/msg NickServ IDENTIFY password"
_NICKSERV = fold("NickServ")
# Replies that only complete another one, or only matter to IRC clients.
_SILENT_REPLIES = frozenset({
    N.RPL_TOPICWHOTIME, N.RPL_CREATIONTIME, N.RPL_WHOISSERVER, N.RPL_ENDOFWHOIS,
})


def render(s: PlainSession, event: Event) -> bytes:
    renderer = RENDERERS.get(type(event))
    if renderer is None:
        raise TypeError(f"no plain rendering for {type(event).__name__}")
    return renderer(s, event)


def _strip_prefix(entry: str) -> str:
    return entry.lstrip("@+")


# -- room and private events --------------------------------------------------------


def _chat(s: PlainSession, e: Chat) -> bytes:
    if e.command == "TAGMSG":
        return b""  # only tags (typing, reactions): nothing to read
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
    elif s.is_me(nick):
        if action is not None:
            body = f"-> {e.target}: * {nick} {action}"
        elif e.command == "NOTICE":
            body = f"-> -{e.target}- {text}"
        else:
            body = f"-> {e.target}: {text}"
    elif action is not None:
        body = f"<- * {nick} {action}"
    elif e.command == "NOTICE" and fold(nick) == _NICKSERV:
        # NickServ says how IRC users do things; plain mode has its own commands.
        body = f"<- -{nick}- {text.replace(_IRC_IDENTIFY, '/login PASSWORD')}"
    elif e.command == "NOTICE":
        body = f"<- -{nick}- {text}"
    else:
        body = f"<- {nick}: {text}"
    return s.stamped(e.time, body)


def _joined(s: PlainSession, e: Joined) -> bytes:
    return s.stamped(e.time, f"{e.room} * {e.source.nick} joined.")


def _parted(s: PlainSession, e: Parted) -> bytes:
    why = f" ({e.reason})" if e.reason else ""
    return s.stamped(e.time, f"{e.room} * {e.source.nick} left{why}.")


def _quit(s: PlainSession, e: Quit) -> bytes:
    return s.stamped(e.time, f"* {e.source.nick} has quit ({e.reason}).")


def _comings(s: PlainSession, e: Comings) -> bytes:
    """A tick's arrivals and departures in one line: "#lobby * alice, bob and 37
    others joined; carol left." A single change reads as it would on its own."""
    if len(e.changes) == 1:
        return render(s, e.changes[0])
    joined = [c.source.nick for c in e.changes if isinstance(c, Joined)]
    parted = [c for c in e.changes if isinstance(c, Parted)]
    quits = [c for c in e.changes if isinstance(c, Quit)]
    most = s.hub.settings.limits.plain_join_names
    parts = []
    if joined:
        parts.append(f"{_some(joined, most)} joined")
    if len(parted) == 1:
        why = f" ({parted[0].reason})" if parted[0].reason else ""
        parts.append(f"{parted[0].source.nick} left{why}")
    elif parted:
        parts.append(f"{_some([c.source.nick for c in parted], most)} left")
    if len(quits) == 1:
        parts.append(f"{quits[0].source.nick} has quit ({quits[0].reason})")
    elif quits:
        parts.append(f"{_some([c.source.nick for c in quits], most)} have quit")
    return s.stamped(e.time, f"{e.room} * {'; '.join(parts)}.")


def _some(nicks: list[str], most: int) -> str:
    """Up to `most` names, then how many more: /who lists everyone."""
    if len(nicks) <= max(most, 1):
        return P.listing(nicks)
    rest = len(nicks) - max(most, 1)
    return f"{P.listing(nicks[:max(most, 1)])} and {P.count(rest, 'other', 'others')}"


def _nick(s: PlainSession, e: NickChanged) -> bytes:
    # In one's own response the rename is done already: the new nick is one's own. A
    # rename not asked for (nick protection's) reaches its person before it is done.
    if (s.personal and s.is_me(e.new_nick)) or s.is_me(e.source.nick):
        return s.stamped(e.time, f"* You are now known as {e.new_nick}.")
    return s.stamped(e.time, f"* {e.source.nick} is now known as {e.new_nick}.")


def _topic_changed(s: PlainSession, e: TopicChanged) -> bytes:
    if e.topic:
        return s.stamped(e.time, f"{e.room} * {e.source.nick} set the topic: {e.topic}")
    return s.stamped(e.time, f"{e.room} * {e.source.nick} cleared the topic.")


def _kicked(s: PlainSession, e: Kicked) -> bytes:
    return s.stamped(e.time, f"{e.room} * {e.source.nick} kicked {e.nick} ({e.reason}).")


def _mode(s: PlainSession, e: ModeChanged) -> bytes:
    who = e.source.nick if e.source is not None else s.hub.settings.name
    change = " ".join((e.modes, *e.args))
    if e.target[:1] in CHANTYPES:
        return s.stamped(e.time, f"{e.target} * {who} sets mode {change}")
    return s.stamped(e.time, f"* {who} sets mode {change} on {e.target}")


def _away(s: PlainSession, e: AwayChanged) -> bytes:
    if e.text:
        return s.stamped(e.time, f"* {e.source.nick} is away: {e.text}")
    return s.stamped(e.time, f"* {e.source.nick} is back.")


def _account(s: PlainSession, e: AccountChanged) -> bytes:
    if e.account:
        return s.stamped(e.time, f"* {e.source.nick} is logged in as {e.account}.")
    return s.stamped(e.time, f"* {e.source.nick} logged out.")


def _invited(s: PlainSession, e: Invited) -> bytes:
    return s.stamped(
        e.time, f"* {e.source.nick} invites you to {e.room}: /join {e.room}"
    )


def _server_message(s: PlainSession, e: ServerMessage) -> bytes:
    msg = e.message
    if msg.command == "NOTICE" and msg.params:
        return s.stamped(s.hub.clock(), f"* {msg.params[-1]}")
    return b""  # PING, PONG and CAP are IRC's business


def _closing(s: PlainSession, e: Closing) -> bytes:
    if s.quitting:
        return s.stamped(s.hub.clock(), "* Goodbye.")
    return s.stamped(s.hub.clock(), f"* {e.reason}. Goodbye.")

# -- replies to this user -----------------------------------------------------------


def _reply(s: PlainSession, e: Reply) -> bytes:
    numeric, params = e.numeric, e.params
    if numeric in _WELCOME_BURST or numeric in _SILENT_REPLIES:
        return b""
    if P.is_error(numeric):
        return P.error(P.error_text(numeric, params, s.stage is Stage.NICK))
    handler = _REPLIES.get(numeric)
    if handler is not None:
        return handler(s, params)
    return _now(s, "* " + " ".join(params))


def _now(s: PlainSession, body: str) -> bytes:
    return s.stamped(s.hub.clock(), body)


def _topic_reply(s: PlainSession, p: tuple[str, ...]) -> bytes:
    return _now(s, f"{p[0]} * Topic: {p[1]}")


def _names_line(s: PlainSession, joined: Joined | None, topic: str, names: list[str],
                room: str) -> bytes:
    """The end of a NAMES answer: a join's one line (the welcome for the first join),
    or who is in the room."""
    if joined is not None and s.stage is Stage.JOINING:
        return _welcome(s, joined, room, topic, names)
    if joined is not None:
        sentence = _sentence(topic)
        about = f" Topic: {sentence}" if sentence else ""
        people = P.listing([_strip_prefix(n) for n in names])
        return s.stamped(joined.time, f"{room} * {s.user.nick} joined.{about} People: {people}")
    if not names:
        return P.error(f"There is no room {room}, or you cannot see who is in it.")
    return _now(s, f"{room} * People ({len(names)}): {P.listing(names)}")


def _people_line(s: PlainSession, joined: Joined | None, topic: str, e: People) -> bytes:
    """Who is in a big room, in brief (hub/rooms.py `send_names_on_join`): the welcome,
    a join's line, or on its own."""
    if joined is not None and s.stage is Stage.JOINING:
        rest = e.total - 1 - len(e.nicks)
        where = (f"You are in {e.room} with {P.listing(list(e.nicks))} and {_others(rest)}"
                 f" ({e.total:,} people; /who lists everyone).")
        return _welcome_lines(s, joined, e.room, topic, where)
    people = (f"People ({e.total:,}): {P.listing(list(e.nicks))} and "
              f"{_others(e.total - len(e.nicks))} (/who lists everyone)")
    if joined is not None:
        sentence = _sentence(topic)
        about = f" Topic: {sentence}" if sentence else ""
        return s.stamped(joined.time, f"{e.room} * {s.user.nick} joined.{about} {people}")
    return _now(s, f"{e.room} * {people}")


def _others(n: int) -> str:
    return f"{n:,} {'other' if n == 1 else 'others'}"


def _welcome(s: PlainSession, joined: Joined, room: str, topic: str, names: list[str],
             ) -> bytes:
    # NAMES spells one's own nick as the hub does: no folding per name.
    me = s.user.nick
    others = [n for n in map(_strip_prefix, names) if n != me]
    if others:
        people = P.count(len(others) + 1, "person", "people")
        where = f"You are in {room} with {P.listing(others)} ({people})."
    else:
        where = f"You are in {room}, on your own so far."
    return _welcome_lines(s, joined, room, topic, where)


def _welcome_lines(s: PlainSession, joined: Joined, room: str, topic: str, where: str,
                   ) -> bytes:
    data = P.line(f"Welcome, {s.user.nick}. {where} Type /help for commands.")
    if topic:
        data += s.stamped(joined.time, f"{room} * Topic: {topic}")
    return data


def _list_row(s: PlainSession, p: tuple[str, ...]) -> bytes:
    room, members, about = p[0], p[1], p[2] if len(p) > 2 else ""
    # The hub puts the room's modes first, "[+nt] topic": plain users see the topic.
    topic = about.partition("] ")[2] if about.startswith("[") else about
    count = number(members)
    people = P.count(count, "person", "people") if count is not None else members
    return _now(s, f"* {room} ({people}){': ' + topic if topic else ''}")


def _ban_row(s: PlainSession, p: tuple[str, ...]) -> bytes:
    return _now(s, f"{p[0]} * Banned: {p[1]} (by {p[2].partition('!')[0]})")


def _whois_idle(s: PlainSession, p: tuple[str, ...]) -> bytes:
    signon = number(p[2])
    since = P.clock(signon) if signon is not None else p[2]
    return _now(s, f"* {p[0]} has been idle {p[1]}s, here since {since}")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


# -- history --------------------------------------------------------------------------


def _playback(s: PlainSession, e: Playback) -> bytes:
    """Kept lines between `--- earlier in #dev ---` and `--- now ---` (docs/PLAIN-MODE.md)."""
    where = f"in {e.target}" if e.target[:1] in CHANTYPES else f"with {e.target}"
    if not e.events:
        if e.kind is PlaybackKind.CHATHISTORY:
            return _now(s, f"* Nothing was said {where} yet.")
        return b""
    s.replaying = True
    try:
        body = b"".join(render(s, event) for event in e.events)
    finally:
        s.replaying = False
    return P.line(f"--- earlier {where} ---") + body + P.line("--- now ---")


def _history_failed(s: PlainSession, e: HistoryFailed) -> bytes:
    target = e.context[1] if len(e.context) > 1 else ""
    if e.code == "INVALID_TARGET" and target[:1] in CHANTYPES:
        return P.error(f"You are not in {target}; /join it to read what was said there.")
    if e.code == "INVALID_TARGET":
        return P.error(f"{target} cannot be a nickname ({P.NICK_RULES}).")
    if e.code == "MESSAGE_ERROR":
        return P.error("History cannot be read just now; try again in a moment.")
    return P.error(f"{e.description}; see /help history.")


def _targets(s: PlainSession, e: TargetsPlayback) -> bytes:
    # Plain mode never asks for TARGETS; an answer to nobody's question says nothing.
    return b""


RENDERERS: dict[type, Callable[[PlainSession, Any], bytes]] = {
    Chat: _chat,
    Joined: _joined,
    Parted: _parted,
    Quit: _quit,
    Comings: _comings,
    People: lambda s, e: _people_line(s, None, "", e),
    NickChanged: _nick,
    TopicChanged: _topic_changed,
    Kicked: _kicked,
    ModeChanged: _mode,
    AwayChanged: _away,
    AccountChanged: _account,
    Invited: _invited,
    ServerMessage: _server_message,
    Closing: _closing,
    Reply: _reply,
    Playback: _playback,
    HistoryFailed: _history_failed,
    TargetsPlayback: _targets,
}

_REPLIES: dict[str, Callable[[PlainSession, tuple[str, ...]], bytes]] = {
    N.RPL_TOPIC: _topic_reply,
    N.RPL_NOTOPIC: lambda s, p: _now(s, f"{p[0]} * No topic is set."),
    N.RPL_LIST: _list_row,
    N.RPL_BANLIST: _ban_row,
    N.RPL_CHANNELMODEIS: lambda s, p: _now(s, f"{p[0]} * Modes: {' '.join(p[1:])}"),
    N.RPL_UMODEIS: lambda s, p: _now(s, f"* Your modes: {p[0]}"),
    N.RPL_AWAY: lambda s, p: _now(s, f"* {p[0]} is away: {p[1]}"),
    N.RPL_NOWAWAY: lambda s, p: _now(s, "* You are marked as away."),
    N.RPL_UNAWAY: lambda s, p: _now(s, "* You are back."),
    N.RPL_WHOISUSER: lambda s, p: _now(s, f"* {p[0]} is {p[1]}@{p[2]} ({p[-1]})"),
    N.RPL_WHOISCHANNELS: lambda s, p: _now(s, f"* {p[0]} is in {p[1]}"),
    N.RPL_WHOISIDLE: _whois_idle,
    N.RPL_INVITING: lambda s, p: _now(s, f"* Invited {p[0]} to {p[1]}."),
    N.RPL_LOGGEDIN: lambda s, p: _now(s, f"* You are now logged in as {p[1]}."),
    N.RPL_LOGGEDOUT: lambda s, p: _now(s, "* You are now logged out."),
}



# -- a command's whole answer -----------------------------------------------------------


def render_response(s: PlainSession, events: list[Event]) -> bytes:
    """Every event of one response, reading the NAMES, LIST and ban-list answers whole:
    one's own join, its topic and its names become one line; an empty listing says so."""
    out = bytearray()
    joined: Joined | None = None
    topic = ""
    names: list[str] = []
    rows = 0
    for event in events:
        if isinstance(event, Joined) and s.is_me(event.source.nick):
            joined, topic, names = event, "", []
            continue
        if isinstance(event, People):
            out += _people_line(s, joined, topic, event)
            joined, topic = None, ""
            continue
        if isinstance(event, Reply):
            numeric, params = event.numeric, event.params
            if numeric == N.RPL_TOPIC and joined is not None:
                topic = params[1]
                continue
            if numeric == N.RPL_NAMREPLY:
                names.extend(params[-1].split())
                continue
            if numeric == N.RPL_ENDOFNAMES:
                out += _names_line(s, joined, topic, names, params[0])
                joined, topic, names = None, "", []
                continue
            if numeric == N.RPL_LISTSTART:
                rows = 0
                continue
            if numeric in (N.RPL_LIST, N.RPL_BANLIST):
                rows += 1
            elif numeric == N.RPL_LISTEND:
                if not rows:
                    out += _now(s, "* There are no rooms yet; /join one to start it.")
                continue
            elif numeric == N.RPL_ENDOFBANLIST:
                if not rows:
                    out += _now(s, f"{params[0]} * Nobody is banned.")
                rows = 0
                continue
        out += render(s, event)
    if joined is not None:
        out += render(s, joined)  # a join without its names (never expected)
    return bytes(out)
