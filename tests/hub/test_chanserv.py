"""ChanServ on a hub without sockets: IRC sessions over a link that keeps what they
were sent, accounts put straight into the hub, logins as the LoggedIn fact."""

from __future__ import annotations

from support.links import Link

from chat_server.hub.accounts import Account, RoomRecord
from chat_server.hub.facts import AccountDropped, Fact, LoggedIn
from chat_server.hub.hub import Hub, HubSettings
from chat_server.hub.snapshot import dump, load
from chat_server.session.irc import IrcSession


class Registry:
    """Remembers what the hub kept, as the store would."""

    def __init__(self) -> None:
        self.rooms: dict[str, RoomRecord] = {}
        self.accounts: dict[str, Account] = {}

    def save_account(self, account: Account) -> None:
        self.accounts[account.folded] = account

    def drop_account(self, folded: str) -> None:
        self.accounts.pop(folded, None)

    def save_room(self, record: RoomRecord) -> None:
        self.rooms[record.folded] = RoomRecord(**{
            name: getattr(record, name) for name in RoomRecord.__dataclass_fields__})

    def drop_room(self, folded: str) -> None:
        self.rooms.pop(folded, None)


class Person:
    def __init__(self, hub: Hub, nick: str, account: str = "") -> None:
        self.hub = hub
        self.link = Link()
        self.session = IrcSession(hub, self.link)
        self.say(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        if account:
            hub.emit(LoggedIn(self.session.user.uid, account))
        self.link.lines()

    def say(self, *lines: str) -> list[str]:
        for line in lines:
            self.session.on_line(line.encode())
        return self.link.lines()

    def cs(self, text: str) -> list[str]:
        """What ChanServ answers to `text`, its notices' texts."""
        return [line.split(" :", 1)[1] for line in self.say(f"PRIVMSG ChanServ :{text}")
                if line.startswith(":ChanServ!") and " NOTICE " in line]


def make_hub(*accounts: str) -> tuple[Hub, Registry]:
    registry = Registry()
    hub = Hub(HubSettings(), registry=registry, clock=lambda: 1_700_000_000.0)
    for name in accounts:
        account = Account(name, "$argon2id$not-a-real-hash", "", (), 1.0)
        hub.accounts[account.folded] = account
    return hub, registry


def registered_room(*accounts: str) -> tuple[Hub, Registry, Person]:
    """#dev registered by alice, who is still in it."""
    hub, registry = make_hub("alice", *accounts)
    alice = Person(hub, "alice", "alice")
    alice.say("JOIN #dev")
    assert alice.cs("REGISTER #dev") == ["#dev is now registered to your account alice"]
    return hub, registry, alice


def test_register_needs_a_login_an_operator_and_a_room_not_yet_registered() -> None:
    hub, _ = make_hub("alice", "bob")
    carol = Person(hub, "carol")
    carol.say("JOIN #dev")
    assert carol.cs("REGISTER #dev") == [
        "You are not logged in to an account (/msg NickServ IDENTIFY password)"]
    bob = Person(hub, "bob", "bob")
    bob.say("JOIN #dev")
    assert bob.cs("REGISTER #dev") == ["You must be an operator of #dev to register it"]
    assert bob.cs("REGISTER #nowhere") == ["No such room #nowhere"]
    assert bob.cs("REGISTER") == ["Usage: REGISTER #room"]
    carol.say("MODE #dev +o bob")
    assert bob.cs("REGISTER #dev") == ["#dev is now registered to your account bob"]
    alice = Person(hub, "alice", "alice")
    alice.say("JOIN #dev")
    carol.say("MODE #dev +o alice")
    assert alice.cs("REGISTER #dev") == ["#dev is already registered (founder: bob)"]


def test_a_registered_room_keeps_what_changes_and_starts_from_it_when_made_again() -> None:
    hub, registry, alice = registered_room()
    alice.say("TOPIC #dev :all about dev", "MODE #dev +mlk 5 sesame", "MODE #dev +b *!*@bad")
    kept = registry.rooms["#dev"]
    assert (kept.topic, kept.flags, kept.key, kept.limit) == ("all about dev", "mnt", "sesame", 5)
    assert [mask for mask, _, _ in kept.bans] == ["*!*@bad"]
    alice.say("PART #dev")
    assert hub.find_room("#dev") is None

    bob = Person(hub, "bob")
    assert any(" 475 " in line for line in bob.say("JOIN #dev"))  # the key is kept
    lines = bob.say("JOIN #dev sesame")
    assert any(" 332 bob #dev :all about dev" in line for line in lines)
    assert any(" 353 " in line and line.endswith(" bob") for line in lines)  # no @
    room = hub.find_room("#dev")
    assert room is not None and not room.is_op(bob.session.user)
    assert room.mode_string(True) == ("+mntkl", ["sesame", "5"])


def test_the_founder_passes_the_key_and_gets_op_back_shown_as_chanserv() -> None:
    hub, _, alice = registered_room()
    alice.say("MODE #dev +k sesame", "PART #dev")
    bob = Person(hub, "bob")
    bob.say("JOIN #dev sesame")
    lines = alice.say("JOIN #dev")
    assert any(" 353 " in line and "@alice" in line for line in lines)
    assert ":ChanServ!ChanServ@roomchat.local MODE #dev +o alice" in bob.link.lines()


def test_amode_lists_and_changes_the_access_list_for_the_founder_only() -> None:
    hub, registry, alice = registered_room("bob", "dave")
    bob = Person(hub, "bob", "bob")
    bob.say("JOIN #dev")
    assert bob.cs("AMODE #dev +v dave") == [
        "Only the founder of #dev (alice) may change its access list"]
    assert alice.cs("AMODE #dev +v nobody") == ["No such account nobody"]
    assert alice.cs("AMODE #dev +x bob") == [
        "Invalid access change +x: use +o, -o, +v or -v and an account"]
    assert alice.cs("AMODE #dev +v bob") == ["bob now gets +v in #dev"]
    # bob is in the room, so he gets it now.
    assert ":ChanServ!ChanServ@roomchat.local MODE #dev +v bob" in bob.link.lines()
    assert alice.cs("AMODE #dev +o dave") == ["dave now gets +o in #dev"]
    assert registry.rooms["#dev"].access == {"bob": "v", "dave": "o"}
    assert alice.cs("AMODE #dev") == [
        "Access list of #dev: 2 accounts (founder alice gets +o)",
        "bob gets +v", "dave gets +o"]
    assert alice.cs("AMODE #dev -o bob") == ["bob already gets +v in #dev"]
    assert alice.cs("AMODE #dev -v bob") == ["bob is no longer on the access list of #dev"]
    assert ":ChanServ!ChanServ@roomchat.local MODE #dev -v bob" in bob.link.lines()
    outsider = Person(hub, "eve")
    assert outsider.cs("AMODE #dev") == [
        "Only the founder, its access list and operators of #dev may see its access list"]


def test_access_list_accounts_get_their_status_on_join_and_on_login() -> None:
    hub, _, alice = registered_room("bob", "dave")
    alice.cs("AMODE #dev +v bob")
    alice.cs("AMODE #dev +o dave")
    bob = Person(hub, "bob", "bob")
    assert any(" 353 " in line and "+bob" in line for line in bob.say("JOIN #dev"))
    dave = Person(hub, "dave")
    dave.say("JOIN #dev")
    room = hub.find_room("#dev")
    assert room is not None and room.status(dave.session.user) == ""
    hub.emit(LoggedIn(dave.session.user.uid, "dave"))
    assert room.status(dave.session.user) == "o"
    assert ":ChanServ!ChanServ@roomchat.local MODE #dev +o dave" in alice.link.lines()


def test_op_and_deop_for_the_founder_and_o_accounts() -> None:
    hub, _, alice = registered_room("bob")
    bob = Person(hub, "bob", "bob")
    bob.say("JOIN #dev")
    assert bob.cs("OP #dev") == [
        "Only the founder of #dev and accounts with +o on its access list may do that"]
    assert alice.cs("OP #dev bob") == ["bob is now an operator of #dev"]
    assert ":ChanServ!ChanServ@roomchat.local MODE #dev +o bob" in bob.link.lines()
    assert alice.cs("OP #dev bob") == ["bob is already an operator of #dev"]
    assert alice.cs("DEOP #dev bob") == ["bob is no longer an operator of #dev"]
    assert alice.cs("OP #dev ghost") == ["No such nick ghost"]
    assert alice.cs("DEOP #dev") == ["alice is no longer an operator of #dev"]
    assert alice.cs("OP #dev") == ["alice is now an operator of #dev"]
    assert alice.cs("OP #other") == ["#other is not registered"]


def test_op_reaches_a_room_the_founder_is_not_in() -> None:
    hub, _, alice = registered_room()
    bob = Person(hub, "bob")
    bob.say("JOIN #dev")
    alice.say("PART #dev")
    assert alice.cs("OP #dev bob") == ["bob is now an operator of #dev"]
    assert ":ChanServ!ChanServ@roomchat.local MODE #dev +o bob" in bob.link.lines()
    assert not [line for line in alice.link.lines() if " MODE " in line]


def test_info_drop_and_dropping_the_founders_account() -> None:
    hub, registry, alice = registered_room("bob")
    bob = Person(hub, "bob", "bob")
    assert bob.cs("INFO #dev") == [
        "#dev is registered", "Founder: alice", "Registered: 2023-11-14 22:13:20 UTC",
        "Access list: 0 accounts"]
    assert bob.cs("DROP #dev") == ["Only the founder of #dev (alice) may drop it"]
    assert alice.cs("INFO") == ["Rooms registered to alice: #dev"]
    assert alice.cs("DROP #dev") == ["#dev is no longer registered; its settings are forgotten"]
    assert bob.cs("INFO #dev") == ["#dev is not registered"]
    assert "#dev" not in registry.rooms

    bob.say("JOIN #bobs")
    assert bob.cs("REGISTER #bobs") == ["#bobs is now registered to your account bob"]
    alice.say("JOIN #alices")
    alice.cs("REGISTER #alices")
    bob.cs("AMODE #bobs +o alice")
    hub.emit(AccountDropped(alice.session.user.uid, "alice"))
    assert set(registry.rooms) == {"#bobs"} and registry.rooms["#bobs"].access == {}


def test_unknown_commands_help_and_the_cs_alias() -> None:
    hub, _ = make_hub()
    carol = Person(hub, "carol")
    assert carol.cs("FROB #dev") == ["Unknown command FROB; /msg ChanServ HELP lists them"]
    assert carol.cs("HELP AMODE") == [
        "Usage: AMODE #room [+o|-o|+v|-v ACCOUNT]",
        "Show the access list, or (the founder) give or take the status an account gets "
        "on joining."]
    assert carol.cs(" ")[0].startswith("ChanServ keeps registered rooms.")
    lines = carol.say("CS INFO #dev")
    assert lines == [":ChanServ!ChanServ@roomchat.local NOTICE carol :#dev is not registered"]
    assert carol.cs("INFO dev") == ["dev is not a valid room name"]


def test_the_per_account_limit_on_registered_rooms() -> None:
    hub, _ = make_hub("alice")
    hub.settings.accounts.max_rooms_per_account = 1
    alice = Person(hub, "alice", "alice")
    alice.say("JOIN #one,#two")
    alice.cs("REGISTER #one")
    assert alice.cs("REGISTER #two") == [
        "Your account has registered 1 rooms, the most it may; drop one first "
        "(/msg ChanServ DROP #room)"]


def test_the_first_registration_in_the_log_wins() -> None:
    hub, _ = make_hub("alice", "bob")
    log: list[Fact] = []
    hub.attach(log.append)
    alice = Person(hub, "alice")
    bob = Person(hub, "bob")
    for fact in log:
        hub.apply_logged(fact)
    log.clear()
    hub.apply_logged(LoggedIn(alice.session.user.uid, "alice"))
    hub.apply_logged(LoggedIn(bob.session.user.uid, "bob"))
    alice.say("JOIN #dev")
    hub.apply_logged(log.pop())
    bob.say("JOIN #dev")
    hub.apply_logged(log.pop())
    alice.say("MODE #dev +o bob")
    hub.apply_logged(log.pop())
    alice.link.lines()
    bob.link.lines()
    alice.say("PRIVMSG ChanServ :REGISTER #dev")
    bob.say("PRIVMSG ChanServ :REGISTER #dev")
    assert len(log) == 2  # both decided before either was applied
    for fact in log:
        hub.apply_logged(fact)
    assert any("#dev is now registered to your account alice" in line
               for line in alice.link.lines())
    assert any("#dev was registered by someone else first" in line
               for line in bob.link.lines())
    assert hub.room_records["#dev"].founder == "alice"


def test_a_snapshot_carries_accounts_and_registered_rooms_and_old_ones_still_load() -> None:
    hub, _, alice = registered_room("bob")
    alice.say("TOPIC #dev :kept")
    alice.cs("AMODE #dev +v bob")
    data = dump(hub)
    late, registry = make_hub()
    load(late, data)
    assert set(late.accounts) == {"alice", "bob"}
    assert late.room_records == hub.room_records
    assert registry.rooms["#dev"].topic == "kept" and set(registry.accounts) == {"alice", "bob"}

    older = {key: value for key, value in data.items()
             if key not in ("accounts", "room_records")}
    kept, _ = make_hub("carol")
    load(kept, older)
    assert set(kept.accounts) == {"carol"} and kept.find_room("#dev") is not None


def test_two_nodes_applying_one_log_agree_on_records_and_status() -> None:
    hub_a, _ = make_hub("alice")
    hub_b, _ = make_hub("alice")
    log: list[Fact] = []
    hub_a.attach(log.append)
    hub_b.attach(log.append)
    applied = 0

    def follow() -> None:
        """Every fact not yet applied, on both nodes, in log order."""
        nonlocal applied
        while applied < len(log):
            fact = log[applied]
            applied += 1
            for hub in (hub_a, hub_b):
                hub.apply_logged(fact)

    alice = Person(hub_a, "alice", "alice")
    follow()
    for line in ("JOIN #dev", "PRIVMSG ChanServ :REGISTER #dev", "MODE #dev +k sesame",
                 "PART #dev"):
        alice.say(line)
        follow()
    bob = Person(hub_b, "bob")
    follow()
    bob.say("JOIN #dev sesame")
    follow()
    alice.say("JOIN #dev")
    follow()
    assert hub_a.room_records == hub_b.room_records
    assert hub_b.room_records["#dev"].key == "sesame"
    for hub in (hub_a, hub_b):
        room = hub.find_room("#dev")
        assert room is not None and room.key == "sesame"
        assert {m.nick: s for m, s in room.members.items()} == {"bob": "", "alice": "o"}
    assert ":ChanServ!ChanServ@roomchat.local MODE #dev +o alice" in bob.link.lines()
