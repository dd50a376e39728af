"""The hub: who is here, which rooms exist, and delivery of events to peers.

Every mutation is synchronous and never awaits, so the event loop is the only lock.
Commands decide against this state and emit facts (`hub/facts.py`); `apply` is the
one reducer that changes shared state, and delivery to local members happens there.
Without a cluster `emit` is `apply`; with one, facts go through the log and every node
applies them in log order (`apply_logged`). What a command or an applied fact tells its
own person is gathered in a response and rendered at once by their session (`flush`).
Must not import the session, transport or store layers.
"""

from __future__ import annotations

import functools
import itertools
import os
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from chat_server.config import AccountsSection, HistorySection, LimitsSection, OperBlock
from chat_server.hub import arrivals
from chat_server.hub.accounts import (
    Account,
    InlinePasswords,
    NullRegistry,
    Passwords,
    Registry,
    RoomRecord,
    Throttle,
    WorkBudget,
    nick_refused,
    protect,
)
from chat_server.hub.apply import REDUCERS
from chat_server.hub.bus import Bus, LocalBus
from chat_server.hub.commands import COMMANDS
from chat_server.hub.events import (
    Chat,
    Closing,
    Event,
    HistoryFailed,
    NickChanged,
    Playback,
    PlaybackKind,
    Quit,
    Reply,
    ServerMessage,
    Source,
    TargetsPlayback,
    make_source,
)
from chat_server.hub.facts import HOLDING, Fact, LoggedIn, NickSet, UserArrived, UserLeft
from chat_server.hub.fanout import deliver, walk
from chat_server.hub.history import (
    ALL_KINDS,
    MESSAGE_KINDS,
    Answer,
    Entry,
    History,
    NullHistory,
    Query,
    Sub,
    TargetActivity,
    account_party,
    dm_parties,
    party_account,
    private_key,
    room_key,
)
from chat_server.hub.model import REMOTE, Peer, Room, User
from chat_server.hub.monitor import Monitors, came_online, went_offline
from chat_server.hub.playback import (
    MSGREFTYPES,
    Refused,
    Request,
    entry_event,
    entry_events,
)
from chat_server.hub.table import SERVICES, VERSION
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message


def _untimed(delay: float, callback: Callable[[], None]) -> None:
    """`Hub.later` without a loop: nothing timed happens."""


@dataclass(slots=True)
class HubSettings:
    """What the hub needs to know about the server it runs in."""

    name: str = "roomchat.local"
    network: str = "roomchat"
    description: str = "roomchat server"
    password: str = ""
    motd: list[str] = field(default_factory=list)
    limits: LimitsSection = field(default_factory=LimitsSection)
    # IRCv3 STS: the TLS port plaintext clients are sent to (0: not advertised), and
    # the seconds a TLS client keeps the policy.
    sts_port: int = 0
    sts_duration: int = 0
    history: HistorySection = field(default_factory=HistorySection)
    # [[opers]]: who may become an IRC operator (OPER), replaced on reload.
    opers: tuple[OperBlock, ...] = ()
    accounts: AccountsSection = field(default_factory=AccountsSection)


@dataclass(frozen=True, slots=True)
class WhowasEntry:
    nick: str
    user: str
    host: str
    realname: str
    time: float


class Hub:
    def __init__(
        self,
        settings: HubSettings,
        *,
        bus: Bus | None = None,
        history: History | None = None,
        registry: Registry | None = None,
        passwords: Passwords | None = None,
        clock: Callable[[], float] = time.time,
        node: str = "",
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.users: dict[str, User] = {}  # folded nick -> registered user
        self.rooms: dict[str, Room] = {}  # folded name -> room
        self.connections: set[User] = set()
        # Everyone the facts name, by uid: local connections (registered or not) and
        # replicas of people on other nodes.
        self.by_uid: dict[str, User] = {}
        # Registered users with mode +i, kept as a count: LUSERS runs at every registration.
        self.invisible = 0
        # Registered users with mode +o, kept as a count for the same reason.
        self.operators = 0
        # Registered people connected to this node, kept as a count for the same reason:
        # counting `connections` at each registration made N registrations cost O(N²).
        # A person counts from their arrival until their departure is applied (at once
        # without a cluster; after the log's round trip with one, as in `users`).
        self.local_registered = 0
        # The most registered users seen at once since start, here and network-wide
        # (LUSERS 265 and 266 "max").
        self.peak_local = 0
        self.peak_global = 0
        # MONITOR lists of this node's connections.
        self.monitors = Monitors()
        # Reads the configuration again (an operator's REHASH); the app sets it.
        self.rehash: Callable[[], None] | None = None
        self.whowas: deque[WhowasEntry] = deque(maxlen=settings.limits.whowas_size)
        self.bus = bus if bus is not None else LocalBus(
            deliver, functools.partial(arrivals.settle, self))
        self.history = history if history is not None else NullHistory()
        self.created = clock()
        # The welcome's lines that name no one (002-005, the MOTD), made once and sent
        # to every registration until a setting they show changes (a reload); see
        # `_constant_replies`.
        self._replies_key: tuple[object, ...] = ()
        self._intro: tuple[Reply, ...] = ()
        self._isupport: tuple[Reply, ...] = ()
        self._motd: tuple[Reply, ...] = ()
        # Commands run, by name (the metrics read it); unknown ones are not counted.
        self.commands_run: Counter[str] = Counter()
        # This node's id: the prefix of its users' uids and of its msgids, unique per
        # server start (a cluster log checks it is not in use); counters keep them short.
        self.node = node or os.urandom(4).hex()
        self._msgid_prefix = self.node
        self._msgid_counter = itertools.count(1)
        self._uid_counter = itertools.count(1)
        # Where facts go: straight to the reducer, unless a cluster log is attached.
        self.emit: Callable[[Fact], None] = self.apply
        self.clustered = False
        # How many nodes share the network (LUSERS); a cluster log keeps it.
        self.servers = 1
        # Registered people by address, on every node: in a cluster the per-address
        # limit counts the whole network (the transport counts this node's).
        self.hosts: Counter[str] = Counter()
        # Accounts and registered rooms by folded name (hub/accounts.py), kept by the
        # registry; password work runs where `passwords` puts it (a thread, in a server).
        self.accounts: dict[str, Account] = {}
        self.room_records: dict[str, RoomRecord] = {}
        # Folded names of dropped accounts: never registered again (`Account.dropped`).
        self.dropped: set[str] = set()
        self.registry: Registry = registry if registry is not None else NullRegistry()
        self.passwords: Passwords = passwords if passwords is not None else InlinePasswords()
        self.throttle = Throttle(settings.accounts, clock)
        self.work_budget = WorkBudget(settings.accounts, clock)
        # Runs a callback after a delay, on the loop (the app sets it); without one,
        # nothing timed happens (nick protection's rename) and what would wait for a
        # tick is delivered at once (plain members' arrival lines).
        self.later: Callable[[float, Callable[[], None]], object] = _untimed
        # Commands waiting to hear whether their fact won in log order (the first
        # AccountRegistered for a name does), by (uid, what): see `wait_for`.
        self._waiters: dict[tuple[str, str], Callable[[bool], None]] = {}

    @property
    def timed(self) -> bool:
        """Whether `later` runs anything (a server's loop); a hub driven by plain calls
        has no ticks."""
        return self.later is not _untimed

    # -- delivery ---------------------------------------------------------------

    # To people rather than a room (QUIT, NICK, AWAY): each peer in turn, rendered once
    # per form.
    fanout = staticmethod(walk)

    @staticmethod
    def send(user: User, event: Event) -> None:
        response = user.response
        if response is not None:
            response.append(event)
            return
        data = user.peer.render(event)
        if data:
            user.peer.write(data)

    @staticmethod
    def flush(user: User) -> None:
        """Hand what `user` was told during their command (or fact) to their session,
        which renders the whole answer at once; a peer without `respond` gets each
        event rendered in turn."""
        events = user.response
        user.response = None
        if not events:
            return
        peer = user.peer
        respond = getattr(peer, "respond", None)
        if respond is not None:
            respond(events)
            return
        for event in events:
            data = peer.render(event)
            if data:
                peer.write(data)

    def reply(self, user: User, numeric: str, *params: str) -> None:
        self.send(user, Reply(numeric, params))

    def send_line(self, user: User, command: str, *params: str) -> None:
        """A non-numeric line from the server (CAP, PONG, PING)."""
        self.send(user, ServerMessage(Message(command, params, self.settings.name)))

    def neighbours(self, user: User) -> set[User]:
        """Everyone sharing a room with `user`, without `user`."""
        seen: set[User] = set()
        for room in user.rooms.values():
            seen.update(room.members)
        seen.discard(user)
        return seen

    def service_notice(self, user: User, service: str, text: str) -> None:
        """A NOTICE to `user` from a service (NickServ, ChanServ)."""
        self.send(user, Chat(self.service_source(service), "NOTICE", user.nick or "*",
                             text, self.new_msgid(), self.stamp(), False))

    def service_source(self, service: str) -> Source:
        found = SERVICES.get(names.fold(service))
        nick = found[0] if found is not None else service
        return _service_source(nick, self.settings.name)

    def hold(self, user: User) -> None:
        """Hold `user`'s next commands until `resume`: work of theirs is running off the
        loop (a password check) and what follows must see its outcome."""
        user.pending += 1

    def resume(self, user: User, then: Callable[[], None]) -> None:
        """The work `hold` waited for is done: run `then` as a response to `user`, then
        the commands that waited. Nothing happens if the user has gone."""
        if user.pending:
            user.pending -= 1
        if user not in self.connections:
            return
        outer = user.response is None
        if outer:
            user.response = []
        try:
            then()
        finally:
            if outer:
                self.flush(user)
        self._run_held(user)

    def _run_held(self, user: User) -> None:
        if not user.pending and user.held:
            held, user.held = user.held, None
            for msg in held:
                self.handle(user, msg)

    def wait_for(self, uid: str, what: str, then: Callable[[bool], None]) -> None:
        """Call `then(won)` when the fact about `what` that `uid` emits next is applied."""
        self._waiters[uid, what] = then

    def settle(self, uid: str, what: str, won: bool) -> None:
        """A reducer's answer to `wait_for`."""
        then = self._waiters.pop((uid, what), None)
        if then is not None:
            then(won)

    def rename_guest(self, user: User) -> None:
        """Nick protection: move `user` off a registered nick to a free guest nick."""
        prefix = self.settings.accounts.guest_prefix
        while True:
            nick = f"{prefix}{random.randrange(10000, 100000)}"[: names.NICKLEN]
            if names.fold(nick) not in self.users:
                break
        self.emit(NickSet(user.uid, nick, self.stamp(), self.new_msgid()))

    def load_registry(self, accounts: Iterable[Account], rooms: Iterable[RoomRecord]) -> None:
        """What the registry kept, at start (before any connection)."""
        kept = list(accounts)
        self.accounts = {a.folded: a for a in kept if not a.dropped}
        self.dropped = {a.folded for a in kept if a.dropped}
        self.room_records = {r.folded: r for r in rooms}

    def new_msgid(self) -> str:
        return f"{self._msgid_prefix}{next(self._msgid_counter):x}"

    def stamp(self) -> float:
        """Now, at the millisecond precision history keeps: a live line's time tag and
        the same line played back from history then read the same."""
        return round(self.clock() * 1000) / 1000

    # -- lookups ----------------------------------------------------------------

    def find_user(self, nick: str) -> User | None:
        return self.users.get(names.fold(nick))

    def find_room(self, name: str) -> Room | None:
        return self.rooms.get(names.fold(name))

    # -- connection lifecycle ---------------------------------------------------

    def connect(self, peer: Peer, host: str, *, secure: bool = False, certfp: str = "") -> User:
        uid = f"{self.node}:{next(self._uid_counter):x}"
        user = User(peer, host, self.clock(), uid, self.node)
        user.secure = secure
        user.certfp = certfp
        self.connections.add(user)
        self.by_uid[uid] = user
        return user

    def is_local(self, user: User) -> bool:
        return user.node == self.node

    def disconnect(
        self,
        user: User,
        reason: str,
        *,
        tell_user: str | None = None,
        log_reason: str | None = None,
    ) -> None:
        """The one exit: leave every room, tell those who should know, forget the user.

        Safe to call more than once. `tell_user` is sent to the user as a Closing event
        before the peer is closed. The peer is closed with `log_reason` when given, for
        a reason that holds what a user wrote, which logs must not record.
        """
        if user not in self.connections:
            return
        self.connections.discard(user)
        if user.registered or user.pending:
            # A claim still on its way is followed by this, so it never outlives us.
            self.emit(UserLeft(user.uid, reason, self.stamp(), self.new_msgid()))
        else:
            self.by_uid.pop(user.uid, None)
        if tell_user is not None:
            self.send(user, Closing(tell_user))
        self.flush(user)  # what the closing command was told goes out before the close
        user.peer.close(reason if log_reason is None else log_reason)

    def quit_user(self, user: User, reason: str, when: float, msgid: str) -> None:
        """Someone leaves the network: room-mates see the QUIT once each."""
        self.by_uid.pop(user.uid, None)
        if not user.registered:
            return
        event = Quit(user.source, reason, when, msgid)
        self.record_rooms(user, msgid, when, "QUIT", (reason,))
        arrivals.announce_quit(self, user, event)
        for room in list(user.rooms.values()):
            self.remove_member(room, user)
        self.remember(user)
        if self.users.get(user.folded) is user:
            del self.users[user.folded]
            went_offline(self, user)
        self.monitors.forget(user)
        self.hosts[user.host] -= 1
        if self.hosts[user.host] <= 0:
            del self.hosts[user.host]
        if "i" in user.modes:
            self.invisible -= 1
        if "o" in user.modes:
            self.operators -= 1
        if self.is_local(user):
            self.local_registered -= 1
        user.registered = False

    def remember(self, user: User) -> None:
        if self.whowas.maxlen:
            self.whowas.append(
                WhowasEntry(user.nick, user.user, user.host, user.realname, self.clock())
            )

    def remove_member(self, room: Room, user: User) -> None:
        if room.members.pop(user, None) is not None:
            arrivals.left(room, user)
        user.rooms.pop(room.folded, None)
        if not room.members:
            del self.rooms[room.folded]

    def change_nick(self, user: User, nick: str, when: float, msgid: str) -> None:
        """Rename a registered user and tell everyone who can see them, once each."""
        event = NickChanged(user.source, nick, when, msgid)
        self.record_rooms(user, event.msgid, event.time, "NICK", (nick,))
        arrivals.settle_rooms(self, user)
        self.fanout(self.neighbours(user), event)
        self.send(user, event)
        self.remember(user)
        del self.users[user.folded]
        renamed = names.fold(nick) != user.folded
        if renamed:
            went_offline(self, user)
        user.set_identity(nick)
        self.users[user.folded] = user
        if renamed:
            came_online(self, user)

    def record_chat(self, user: User, event: Chat, key: str) -> None:
        if event.text.startswith("\x01") and not event.text.startswith("\x01ACTION"):
            return  # a CTCP query replayed later would make clients answer it again
        self.history.record(Entry(key, event.msgid, event.time, event.command,
                                  user.source.prefix, (event.target, event.text)))

    def record_room(self, room: Room, msgid: str, when: float, kind: str, source: str,
                    params: tuple[str, ...]) -> None:
        """Keep a room event (JOIN, PART, KICK, TOPIC, MODE) for event playback."""
        self.history.record(Entry(room_key(room.folded), msgid, when, kind, source, params))

    def record_rooms(self, user: User, msgid: str, when: float, kind: str,
                     params: tuple[str, ...]) -> None:
        """Keep a QUIT or NICK once in every room `user` is in, under one msgid."""
        source = user.source.prefix
        for room in user.rooms.values():
            self.history.record(Entry(room_key(room.folded), msgid, when, kind, source, params))

    # -- registration -----------------------------------------------------------

    def try_register(self, user: User) -> None:
        if user.registered or not user.nick or not user.user or user.cap_negotiating:
            return
        if self.settings.password and not user.password_ok:
            self.reply(user, N.ERR_PASSWDMISMATCH, "Password incorrect")
            self.disconnect(user, "Bad password", tell_user="Bad password")
            return
        existing = self.users.get(user.folded)
        if existing is not None and existing is not user:
            self.reply(user, N.ERR_NICKNAMEINUSE, user.nick, "Nickname is already in use")
            user.set_identity("")
            return
        if nick_refused(self, user, user.nick):
            self.reply(user, N.ERR_NICKNAMEINUSE, user.nick,
                       "Nickname is registered to someone else; log in first")
            user.set_identity("")
            return
        if self.clustered and self.hosts[user.host] >= self.settings.limits.max_connections_per_ip:
            reason = "Too many connections from your address"
            self.disconnect(user, reason, tell_user=reason)
            return
        self.emit(UserArrived(user.uid, user.nick, user.user, user.host, user.realname,
                              user.secure, user.signon))
        if user.account:
            # Logged in while registering (SASL): the rest of the network learns it now.
            self.emit(LoggedIn(user.uid, user.account))

    def arrive(self, fact: UserArrived) -> None:
        """A nickname claim in log order: the first for a folded nick wins."""
        folded = names.fold(fact.nick)
        user = self.by_uid.get(fact.uid)
        holder = self.users.get(folded)
        if holder is not None and holder is not user:
            if user is not None and self.is_local(user) and not user.registered:
                self.reply(user, N.ERR_NICKNAMEINUSE, fact.nick, "Nickname is already in use")
                user.set_identity("")
            return
        if user is None:
            node = fact.uid.rpartition(":")[0]
            user = User(REMOTE, fact.host, fact.signon, fact.uid, node)
            user.realname = fact.realname
            user.secure = fact.secure
            self.by_uid[fact.uid] = user
        elif user.registered:
            return
        user.registered = True
        user.set_identity(fact.nick, fact.user)
        self.users[folded] = user
        self.hosts[user.host] += 1
        self.peak_global = max(self.peak_global, len(self.users))
        came_online(self, user)
        if self.is_local(user):
            self.local_registered += 1
            self.peak_local = max(self.peak_local, self.local_registered)
            self.welcome(user)
            protect(self, user)

    def welcome(self, user: User) -> None:
        s = self.settings
        self.reply(
            user, N.RPL_WELCOME, f"Welcome to the {s.network} IRC Network {user.source.prefix}"
        )
        intro, isupport, motd = self._constant_replies()
        send = self.send
        for reply in intro + isupport:
            send(user, reply)
        self.send_lusers(user)
        for reply in motd:
            send(user, reply)

    def _constant_replies(self) -> tuple[tuple[Reply, ...], ...]:
        """002-004, 005 and the MOTD: the same for every registration, so made once (they
        were a good part of what a short-lived connection cost) and again only when
        something they show has changed; the key is every setting they read."""
        s, lim = self.settings, self.settings.limits
        key = (s.name, s.network, s.motd, s.history.chathistory_max, lim.max_targets,
               lim.max_rooms_per_user, lim.max_bans, lim.max_monitor)
        if key != self._replies_key:
            created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.created))
            tokens = self.isupport_tokens()
            self._intro = (
                Reply(N.RPL_YOURHOST, (f"Your host is {s.name}, running version {VERSION}",)),
                Reply(N.RPL_CREATED, (f"This server was created {created}",)),
                Reply(N.RPL_MYINFO, (s.name, VERSION, "Biow", "beIiklmnostv", "beIklov")),
            )
            self._isupport = tuple(
                Reply(N.RPL_ISUPPORT, (*tokens[i : i + 12], "are supported by this server"))
                for i in range(0, len(tokens), 12))
            motd = s.motd
            self._motd = (
                (Reply(N.RPL_MOTDSTART, (f"- {s.name} Message of the day - ",)),
                 *(Reply(N.RPL_MOTD, (f"- {line}",)) for line in motd),
                 Reply(N.RPL_ENDOFMOTD, ("End of /MOTD command.",)))
                if motd else (Reply(N.ERR_NOMOTD, ("MOTD File is missing",)),))
            # A list compares by value: a copy, so that changing it in place is seen.
            self._replies_key = (*key[:2], list(motd), *key[3:])
        return self._intro, self._isupport, self._motd

    def isupport_tokens(self) -> list[str]:
        lim = self.settings.limits
        t = lim.max_targets
        return [
            f"AWAYLEN={names.AWAYLEN}",
            "BOT=B",
            f"CASEMAPPING={names.CASEMAPPING}",
            f"CHANLIMIT={names.CHANTYPES}:{lim.max_rooms_per_user}",
            "CHANMODES=beI,k,l,imnst",
            f"CHANNELLEN={names.CHANNELLEN}",
            f"CHATHISTORY={self.settings.history.chathistory_max}",
            f"CHANTYPES={names.CHANTYPES}",
            "ELIST=CMNTU",
            f"KICKLEN={names.KICKLEN}",
            "EXCEPTS=e",
            "INVEX=I",
            f"MAXLIST=beI:{lim.max_bans}",
            f"MAXTARGETS={t}",
            "MODES=4",
            f"MONITOR={lim.max_monitor}",
            f"MSGREFTYPES={','.join(MSGREFTYPES)}",
            f"NETWORK={self.settings.network}",
            f"NICKLEN={names.NICKLEN}",
            "PREFIX=(ov)@+",
            f"TARGMAX=JOIN:,KICK:{t},NAMES:{t},NOTICE:{t},PART:,PRIVMSG:{t},WHOIS:1",
            f"TOPICLEN={names.TOPICLEN}",
            f"USERLEN={names.USERLEN}",
            "STATUSMSG=@+",
            "UTF8ONLY",
            "WHOX",
        ]

    def send_isupport(self, user: User) -> None:
        for reply in self._constant_replies()[1]:
            self.send(user, reply)

    def send_lusers(self, user: User) -> None:
        users = len(self.users)
        local = self.local_registered
        # Connections not registered yet (a person whose departure is still on its way
        # through a cluster's log is counted as registered, not here).
        unknown = max(0, len(self.connections) - local)
        invisible = self.invisible
        servers = f"{self.servers} server" + ("s" if self.servers != 1 else "")
        self.reply(user, N.RPL_LUSERCLIENT,
                   f"There are {users - invisible} users and {invisible} invisible on {servers}")
        self.reply(user, N.RPL_LUSEROP, str(self.operators), "operator(s) online")
        if unknown > 0:
            self.reply(user, N.RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
        self.reply(user, N.RPL_LUSERCHANNELS, str(len(self.rooms)), "channels formed")
        top_local, top = max(self.peak_local, local), max(self.peak_global, users)
        self.reply(user, N.RPL_LUSERME, f"I have {local} clients and {self.servers - 1} servers")
        self.reply(user, N.RPL_LOCALUSERS, str(local), str(top_local),
                   f"Current local users {local}, max {top_local}")
        self.reply(user, N.RPL_GLOBALUSERS, str(users), str(top),
                   f"Current global users {users}, max {top}")

    def send_motd(self, user: User) -> None:
        for reply in self._constant_replies()[2]:
            self.send(user, reply)

    # -- history ----------------------------------------------------------------

    def replay_on_join(self, user: User, room: Room) -> None:
        """The room's last messages, from memory, for a client that cannot ask for them."""
        count = self.settings.history.replay_on_join
        if count <= 0 or "draft/chathistory" in user.caps:
            return
        entries = self.history.recent(room_key(room.folded), count, MESSAGE_KINDS)
        if entries:
            events = tuple(e for e in map(_replay_event, entries) if e is not None)
            self.send(user, Playback(PlaybackKind.JOIN, room.name, events))

    def history_failed(self, user: User, refused: Refused) -> None:
        self.send(user, HistoryFailed(refused.code, refused.context, refused.description))

    def ask_history(self, user: User, request: Request) -> None:
        """Check that `user` may read the target, ask the store, answer when it replies.

        A room is readable by its members, a private conversation by its two parties
        (whether or not the other one is online): a nick names the conversation with
        whoever holds it now, or with the account of that name when nobody does
        (`_private_key_with`). The answer comes later, on the loop; it is dropped if
        the user has gone by then.
        """
        if request.sub is Sub.TARGETS:
            self._ask_targets(user, request)
            return
        kinds = ALL_KINDS if "draft/event-playback" in user.caps else MESSAGE_KINDS
        target = request.target
        sub = request.sub.value
        if target[:1] in names.CHANTYPES:
            room = self.find_room(target)
            if room is None or user not in room.members:
                raise Refused("INVALID_TARGET", (sub, target), "Messages could not be retrieved")
            key, shown = room_key(room.folded), room.name
        elif names.is_valid_nick(target):
            other = self.find_user(target)
            key = self._private_key_with(user, target, other)
            shown = target  # the batch names the conversation as the client asked
        else:
            raise Refused("INVALID_TARGET", (sub, target), "Messages could not be retrieved")
        query = Query(request.sub, key, request.start, request.limit, kinds, request.end)

        def done(answer: Answer) -> None:
            if user not in self.connections:
                return  # gone while the store looked
            entries = [e for e in answer if isinstance(e, Entry)]
            self.send(user, Playback(PlaybackKind.CHATHISTORY, shown, entry_events(entries)))

        self.history.query(query, done)

    def _private_key_with(self, user: User, nick: str, other: User | None) -> str:
        """The key of `user`'s conversation with `nick` (held by `other`, or by nobody
        now): the pair of accounts when both are logged in (hub/history.py,
        `private_key`). Someone offline counts as logged in to the account registered
        as their nick, since an account's name is its nick."""
        if other is not None:
            return private_key(user.folded, user.account, other.folded, other.account)
        folded = names.fold(nick)
        owner = self.accounts.get(folded)
        return private_key(user.folded, user.account, folded,
                           owner.name if owner is not None else "")

    def _ask_targets(self, user: User, request: Request) -> None:
        # Rooms the user is in; the store adds every private conversation of the user
        # (`parties`: their nick's, and their account's when logged in), offline
        # partners included, whom the hub does not know. Only messages make a
        # conversation active, whatever events the client can play back.
        keys = [room_key(folded) for folded in user.rooms]
        parties: tuple[str, ...] = (user.folded,)
        if user.account:
            parties += (account_party(names.fold(user.account)),)
        query = Query(Sub.TARGETS, "", request.start, request.limit, MESSAGE_KINDS,
                      request.end, tuple(keys), parties)

        def done(answer: Answer) -> None:
            if user not in self.connections:
                return
            found = [row for row in answer if isinstance(row, TargetActivity)]
            nicks = self._nicks_of_accounts(
                {party_account(other) for row in found
                 if (other := self._other_party(parties, row.target))})
            rows = [(self._conversation_name(parties, row.target, nicks), row.time)
                    for row in found]
            self.send(user, TargetsPlayback(tuple(rows)))

        self.history.query(query, done)

    @staticmethod
    def _other_party(mine: tuple[str, ...], key: str) -> str:
        """The party of a private conversation that is not the asker ("" for a room)."""
        parties = dm_parties(key)
        if parties is None:
            return ""
        return parties[1] if parties[0] in mine else parties[0]

    def _nicks_of_accounts(self, wanted: set[str]) -> dict[str, str]:
        """Folded account -> the nick of someone online logged in to it, for those of
        `wanted` that anyone is. One pass over the people, comparing names as held (a
        login holds the account's name as registered), however many rows ask."""
        wanted.discard("")
        names_held = {self.accounts[a].name: a for a in wanted if a in self.accounts}
        if not names_held:
            return {}
        return {names_held[u.account]: u.nick for u in self.users.values()
                if u.account in names_held}

    def _conversation_name(self, mine: tuple[str, ...], key: str,
                           nicks: dict[str, str]) -> str:
        """How the asker (whose parties are `mine`) names a kept conversation: the
        room, or the other party's nick now. An account conversation is named by the
        nick of someone logged in to it (`nicks`), else by the account's name, which
        CHATHISTORY reads back as the same conversation."""
        other = self._other_party(mine, key)
        if not other:
            room = self.rooms.get(key)
            return room.name if room is not None else key
        account = party_account(other)
        if account:
            if account in nicks:
                return nicks[account]
            found_account = self.accounts.get(account)
            return found_account.name if found_account is not None else account
        found = self.users.get(other)
        return found.nick if found is not None else other

    # -- commands ---------------------------------------------------------------

    def apply(self, fact: Fact) -> None:
        """The reducer: change the state as `fact` says and deliver to local members."""
        REDUCERS[type(fact)](self, fact)

    def attach(self, send: Callable[[Fact], None]) -> None:
        """Send facts through a cluster log; they come back through `apply_logged`."""
        by_uid = self.by_uid

        def emit(fact: Fact) -> None:
            if type(fact) in HOLDING:
                user = by_uid.get(fact.uid)  # type: ignore[union-attr]
                if user is not None:
                    user.pending += 1
            send(fact)

        self.emit = emit
        self.clustered = True

    def apply_logged(self, fact: Fact) -> None:
        """A fact read back from the log. Its own person, when connected here, is told
        what it led to in one response; their next commands, held while it travelled,
        run now."""
        user = self.by_uid.get(getattr(fact, "uid", ""))
        if user is None or not self.is_local(user):
            self.apply(fact)
            return
        if user.response is None:
            user.response = []
            try:
                self.apply(fact)
            finally:
                self.flush(user)
        else:
            self.apply(fact)
        if type(fact) in HOLDING and user.pending:
            user.pending -= 1
            self._run_held(user)

    def handle(self, user: User, msg: Message) -> None:
        """Run one command through the table's shared checks, then its handler; what
        it answers reaches the session as one response."""
        if user.pending:
            # A change of theirs is still on its way through the log: this command
            # must see it applied, so it waits (bounded by flood control).
            if user.held is None:
                user.held = [msg]
            else:
                user.held.append(msg)
            return
        outer = user.response is None
        if outer:
            user.response = []
        try:
            self._run(user, msg)
        finally:
            if outer:
                self.flush(user)

    def _run(self, user: User, msg: Message) -> None:
        spec = COMMANDS.get(msg.command)
        if spec is None:
            if user.registered:
                self.reply(user, N.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
            else:
                self.reply(user, N.ERR_NOTREGISTERED, "You have not registered")
            return
        if not user.registered and not spec.before_registration:
            self.reply(user, N.ERR_NOTREGISTERED, "You have not registered")
            return
        if len(msg.params) < spec.min_params:
            self.reply(user, N.ERR_NEEDMOREPARAMS, msg.command, "Not enough parameters")
            return
        if spec.counts_as_activity:
            user.last_active = self.clock()
        self.commands_run[msg.command] += 1
        spec.handler(self, user, msg)

    def shutdown(self, reason: str) -> None:
        """Tell every connection why it is closing and let go of them all."""
        for user in list(self.connections):
            self.send(user, Closing(reason))
            self.connections.discard(user)
            user.peer.close(reason)
        self.users.clear()
        self.rooms.clear()
        self.by_uid.clear()
        self.hosts.clear()
        self.monitors = Monitors()



# Everyone joining a room is replayed the same last lines: each kept entry becomes its
# event once, not once per joiner (the same event objects also let the session's
# rendering of them be cached).
_replay_event = functools.lru_cache(maxsize=1024)(entry_event)


@functools.lru_cache(maxsize=8)
def _service_source(nick: str, server: str) -> Source:
    return make_source(nick, nick, server)
