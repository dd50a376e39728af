"""MONITOR (IRCv3): lists of nicknames a person is told about when they come and go.

A list belongs to one connection, so it is kept on the node that holds it and is not
a fact; what it reports (arrivals, quits, nick changes, and with extended-monitor away
changes) is applied from facts on every node, and each node tells its own watchers.
Registers into the one command table of `hub/table.py`. Must not import the
session, transport or store layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_server.hub.model import User
from chat_server.hub.table import command
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import MAX_REST_BYTES, Message

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub


class Monitors:
    """Who watches which folded nick, and each watcher's list (as typed)."""

    __slots__ = ("lists", "watchers")

    def __init__(self) -> None:
        self.watchers: dict[str, set[User]] = {}
        self.lists: dict[User, dict[str, str]] = {}

    def add(self, user: User, folded: str, nick: str) -> None:
        self.lists.setdefault(user, {})[folded] = nick
        self.watchers.setdefault(folded, set()).add(user)

    def remove(self, user: User, folded: str) -> None:
        listed = self.lists.get(user)
        if listed is None or listed.pop(folded, None) is None:
            return
        if not listed:
            del self.lists[user]
        watching = self.watchers.get(folded)
        if watching is not None:
            watching.discard(user)
            if not watching:
                del self.watchers[folded]

    def forget(self, user: User) -> None:
        """A watcher leaves: their list goes with them."""
        for folded in list(self.lists.get(user, ())):
            self.remove(user, folded)

    def of(self, folded: str) -> set[User]:
        return self.watchers.get(folded, set())


def _packed(hub: Hub, user: User, numeric: str, items: list[str]) -> None:
    """Comma-separated items in as few replies as stay within 512 bytes."""
    head = len(f":{hub.settings.name} {numeric} {user.nick} :".encode()) + 2
    budget = MAX_REST_BYTES - head
    line: list[str] = []
    size = 0
    for item in items:
        cost = len(item.encode()) + 1
        if line and size + cost > budget:
            hub.reply(user, numeric, ",".join(line))
            line, size = [], 0
        line.append(item)
        size += cost
    if line:
        hub.reply(user, numeric, ",".join(line))


def _status(hub: Hub, user: User, nicks: list[str]) -> None:
    online: list[str] = []
    offline: list[str] = []
    for nick in nicks:
        found = hub.find_user(nick)
        if found is not None:
            online.append(found.source.prefix)
        else:
            offline.append(nick)
    _packed(hub, user, N.RPL_MONONLINE, online)
    _packed(hub, user, N.RPL_MONOFFLINE, offline)


def came_online(hub: Hub, target: User) -> None:
    """RPL_MONONLINE to this node's watchers of `target`'s nick."""
    for watcher in hub.monitors.of(target.folded):
        hub.reply(watcher, N.RPL_MONONLINE, target.source.prefix)


def went_offline(hub: Hub, target: User) -> None:
    for watcher in hub.monitors.of(target.folded):
        hub.reply(watcher, N.RPL_MONOFFLINE, target.nick)


@command("MONITOR", min_params=1, usage="MONITOR +|- NICK[,NICK] | C | L | S",
         help="Be told when nicknames come online and leave (+ adds, - removes, C clears, "
              "L lists, S says who is online).")
def monitor(hub: Hub, user: User, msg: Message) -> None:
    sub = msg.params[0].upper()
    monitors = hub.monitors
    targets = [t for t in msg.param(1).split(",") if t]
    if sub == "+":
        limit = hub.settings.limits.max_monitor
        listed = monitors.lists.get(user, {})
        added: list[str] = []
        for i, nick in enumerate(targets):
            if not names.is_valid_nick(nick):
                hub.reply(user, N.ERR_ERRONEUSNICKNAME, nick, "Erroneous nickname")
                continue
            folded = names.fold(nick)
            if folded not in listed and len(listed) >= limit:
                hub.reply(user, N.ERR_MONLISTFULL, str(limit), ",".join(targets[i:]),
                          "Monitor list is full")
                break
            monitors.add(user, folded, nick)
            listed = monitors.lists[user]
            added.append(nick)
        _status(hub, user, added)
    elif sub == "-":
        for nick in targets:
            monitors.remove(user, names.fold(nick))
    elif sub == "C":
        monitors.forget(user)
    elif sub == "L":
        _packed(hub, user, N.RPL_MONLIST, list(monitors.lists.get(user, {}).values()))
        hub.reply(user, N.RPL_ENDOFMONLIST, "End of MONITOR list")
    elif sub == "S":
        _status(hub, user, list(monitors.lists.get(user, {}).values()))
    else:
        hub.reply(user, N.ERR_UNKNOWNCOMMAND, "MONITOR", f"Unknown MONITOR subcommand {sub}")
