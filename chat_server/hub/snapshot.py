"""The hub's shared state as plain data, and back: what a late node starts from.

A snapshot holds what the facts built (people, rooms, membership, topics, modes, bans,
invites, accounts and registered rooms), with the uids the facts use, so that applying
the log after it gives the state every other node has. Connections, history and
WHOWAS are not in it. Accounts and room records were added later under keys of their
own: a snapshot without them is still read (the node keeps what its store has), and
an older node reading a newer one skips them. Must not import the session, transport
or store layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chat_server.hub import arrivals
from chat_server.hub.accounts import Account, RoomRecord
from chat_server.hub.model import REMOTE, Ban, Room, User
from chat_server.protocol import names

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

SNAPSHOT_VERSION = 1


def dump(hub: Hub) -> dict[str, Any]:
    users = [
        [u.uid, u.nick, u.user, u.host, u.realname, u.secure, u.signon, u.away,
         "".join(sorted(u.modes)), dict(u.invites or {})]
        for u in hub.users.values()
    ]
    rooms = [
        [r.name, r.created, r.topic, r.topic_setter, r.topic_time, "".join(sorted(r.flags)),
         r.key, r.limit, [[b.mask, b.setter, b.time] for b in r.bans],
         [[m.uid, status] for m, status in r.members.items()],
         [[b.mask, b.setter, b.time] for b in r.excepts],
         [[b.mask, b.setter, b.time] for b in r.invexes]]
        for r in hub.rooms.values()
    ]
    accounts = [[a.name, a.password_hash, a.scram, list(a.certfps), a.registered]
                for a in hub.accounts.values()]
    records = [
        [r.name, r.founder, r.registered, r.topic, r.topic_setter, r.topic_time, r.flags,
         r.key, r.limit, [list(b) for b in r.bans], [list(b) for b in r.excepts],
         [list(b) for b in r.invexes], dict(r.access)]
        for r in hub.room_records.values()
    ]
    # Who is logged in, by uid: a key of its own, which older nodes ignore.
    logins = {u.uid: u.account for u in hub.users.values() if u.account}
    return {"version": SNAPSHOT_VERSION, "users": users, "rooms": rooms,
            "accounts": accounts, "room_records": records, "logins": logins,
            "dropped": sorted(hub.dropped)}


def _masks(rows: Any) -> tuple[tuple[str, str, float], ...]:
    return tuple((str(m), str(s), float(t)) for m, s, t in rows)


def _load_registered(hub: Hub, data: dict[str, Any]) -> None:
    """The network's accounts and registered rooms replace what this node's store
    had (it may have missed changes while it was away), and the store follows."""
    accounts = {}
    for name, password_hash, scram, certfps, registered in data["accounts"]:
        account = Account(str(name), str(password_hash), str(scram),
                          tuple(str(c) for c in certfps), float(registered))
        accounts[account.folded] = account
    records = {}
    for (name, founder, registered, topic, setter, topic_time, flags, key, limit, bans,
         excepts, invexes, access) in data["room_records"]:
        record = RoomRecord(str(name), str(founder), float(registered), str(topic),
                            str(setter), float(topic_time), str(flags), str(key), int(limit),
                            _masks(bans), _masks(excepts), _masks(invexes),
                            {str(k): str(v) for k, v in access.items()})
        records[record.folded] = record
    # A name dropped anywhere stays dropped (`Account.dropped`), an account of this
    # node's that the network no longer has included. A snapshot from before dropped
    # names were kept has none: then what this node knows stands.
    dropped = (hub.dropped | {str(folded) for folded in data.get("dropped", ())}
               | (hub.accounts.keys() - accounts.keys())) - accounts.keys()
    for folded in dropped - hub.dropped:
        hub.registry.drop_account(folded)
    for folded in hub.room_records.keys() - records.keys():
        hub.registry.drop_room(folded)
    for account in accounts.values():
        if account != hub.accounts.get(account.folded):
            hub.registry.save_account(account)
    for record in records.values():
        if record != hub.room_records.get(record.folded):
            hub.registry.save_room(record)
    hub.accounts, hub.room_records, hub.dropped = accounts, records, dropped


def load(hub: Hub, data: dict[str, Any]) -> None:
    """Make the people and rooms of `data` known (as people of other nodes); ValueError
    for data this version cannot read."""
    if data.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"snapshot version {data.get('version')!r}")
    try:
        for uid, nick, user, host, realname, secure, signon, away, modes, invites in (
                data["users"]):
            person = User(REMOTE, str(host), float(signon), str(uid),
                          str(uid).rpartition(":")[0])
            person.registered = True
            person.set_identity(str(nick), str(user))
            person.realname = str(realname)
            person.secure = bool(secure)
            person.away = str(away)
            # User modes as letters; an older snapshot has a bool for +i alone.
            letters = str(modes) if isinstance(modes, str) else "i" if modes else ""
            if letters:
                person.modes = frozenset(letters)
                hub.invisible += "i" in letters
                hub.operators += "o" in letters
            if invites:
                person.invites = {str(k): float(v) for k, v in invites.items()}
            hub.users[person.folded] = person
            hub.hosts[person.host] += 1
            hub.by_uid[person.uid] = person
        for row in data["rooms"]:
            # +e and +I lists follow; a snapshot from before them has none.
            (name, created, topic, setter, topic_time, flags, key, limit, bans,
             members), extra = row[:10], row[10:]
            folded = names.fold(str(name))
            room = Room(str(name), folded, float(created), topic=str(topic),
                        topic_setter=str(setter), topic_time=float(topic_time),
                        flags=set(str(flags)), key=str(key), limit=int(limit),
                        bans=[Ban(str(m), str(s), float(t)) for m, s, t in bans])
            if extra:
                room.excepts = [Ban(str(m), str(s), float(t)) for m, s, t in extra[0]]
                room.invexes = [Ban(str(m), str(s), float(t)) for m, s, t in extra[1]]
            for uid, status in members:
                member = hub.by_uid.get(str(uid))
                if member is not None:
                    room.members[member] = str(status)
                    arrivals.entered(room, member)
                    member.rooms[folded] = room
            if room.members:
                hub.rooms[folded] = room
        if "accounts" in data:
            _load_registered(hub, data)
        for uid, account in data.get("logins", {}).items():
            found = hub.by_uid.get(str(uid))
            if found is not None:
                found.set_account(str(account))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"malformed snapshot: {exc}") from None
