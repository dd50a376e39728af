"""Private history keyed by account, in the hub without sockets: where a private
message is kept, which conversation a CHATHISTORY nick names, and how TARGETS names
conversations kept by account."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from chat_server.config import HistorySection, StoreSection
from chat_server.hub.events import Event, TargetsPlayback
from chat_server.hub.facts import AccountRegistered, LoggedIn
from chat_server.hub.history import (
    ACCOUNT_MARK,
    Answer,
    Entry,
    Query,
    TargetActivity,
    dm_key,
    dm_parties,
    private_key,
)
from chat_server.hub.hub import Hub, HubSettings
from chat_server.hub.model import User
from chat_server.protocol import names
from chat_server.protocol.message import parse_line
from chat_server.store.memory import MemoryStore


class Peer:
    """Keeps the events the hub hands to one person."""

    def __init__(self) -> None:
        self.form = self
        self.events: list[Event] = []

    def render(self, event: Event) -> bytes:
        self.events.append(event)
        return b""

    def write(self, data: bytes) -> None:
        return None

    def close(self, reason: str) -> None:
        return None


def command(hub: Hub, user: User, line: str) -> None:
    hub.handle(user, parse_line(line))


def register(hub: Hub, nick: str) -> tuple[User, Peer]:
    peer = Peer()
    user = hub.connect(peer, "10.0.0.1")
    command(hub, user, f"NICK {nick}")
    command(hub, user, f"USER {nick} 0 * :{nick}")
    return user, peer


class AskedHistory:
    """Keeps nothing; records each question and answers it at once with `rows`."""

    def __init__(self) -> None:
        self.queries: list[Query] = []
        self.rows: Answer = []

    def record(self, entry: Entry) -> None:
        return None

    def recent(self, target: str, limit: int, kinds: frozenset[str] = frozenset(),
               ) -> list[Entry]:
        return []

    def query(self, query: Query, done: Callable[[Answer], None]) -> None:
        self.queries.append(query)
        done(self.rows)


def logged_in(hub: Hub, user: User, account: str) -> None:
    """`user` logged in to `account`, registering it first if it is new."""
    if names.fold(account) in hub.accounts:
        hub.emit(LoggedIn(user.uid, account))
    else:
        hub.emit(AccountRegistered(user.uid, account, "hash", "scram", "", hub.stamp()))
    assert user.account == account


def test_the_key_is_the_account_pair_when_both_are_logged_in() -> None:
    assert private_key("alice", "Alice", "bob", "bob") == "~alice ~bob"
    assert private_key("bob", "bob", "alice", "Alice") == "~alice ~bob"
    assert private_key("alice", "Alice", "bob", "") == "alice bob"
    assert private_key("alice", "", "bob", "") == "alice bob"
    assert dm_parties(private_key("ally", "Alice", "bob", "bob")) == ("~alice", "~bob")


@given(st.text(min_size=1, max_size=names.NICKLEN))
def test_no_folded_nick_reads_as_an_account_party(nick: str) -> None:
    if names.is_valid_nick(nick):
        assert not names.fold(nick).startswith(ACCOUNT_MARK)


def test_private_messages_are_kept_by_account_only_while_both_are_logged_in() -> None:
    store = MemoryStore(StoreSection(backend="memory"), HistorySection())
    hub = Hub(HubSettings(), history=store)
    alice, _ = register(hub, "alice")
    bob, _ = register(hub, "bob")
    command(hub, alice, "PRIVMSG bob :before login")
    logged_in(hub, alice, "alice")
    command(hub, alice, "PRIVMSG bob :one logged in")
    logged_in(hub, bob, "bob")
    command(hub, alice, "PRIVMSG bob :both")
    command(hub, alice, "NICK ally")
    command(hub, bob, "PRIVMSG ally :after the nick change")
    by_nick = [e.params[1] for e in store.export(dm_key("alice", "bob"))]
    by_account = [e.params[1] for e in store.export(dm_key("~alice", "~bob"))]
    assert by_nick == ["before login", "one logged in"]
    assert by_account == ["both", "after the nick change"]
    assert list(store.export(dm_key("ally", "bob"))) == []


def asked_key(hub: Hub, history: AskedHistory, user: User, target: str) -> str:
    command(hub, user, f"CHATHISTORY LATEST {target} * 10")
    return history.queries[-1].target


def test_a_nick_names_the_conversation_with_its_holder_or_its_account() -> None:
    history = AskedHistory()
    hub = Hub(HubSettings(), history=history)
    bob, _ = register(hub, "bob")
    alice, _ = register(hub, "ally")
    carol, _ = register(hub, "carol")
    logged_in(hub, bob, "bob")
    logged_in(hub, alice, "Alice")
    # Online, both logged in: the accounts, whatever the nick.
    assert asked_key(hub, history, bob, "ally") == "~alice ~bob"
    # Online, not logged in: the nicks.
    assert asked_key(hub, history, bob, "carol") == "bob carol"
    # Offline: the account registered as that nick, else the nicks.
    assert asked_key(hub, history, bob, "ALICE") == "~alice ~bob"
    assert asked_key(hub, history, bob, "zed") == "bob zed"
    # An asker not logged in reads by nick, an account's nick included.
    assert asked_key(hub, history, carol, "ally") == "ally carol"
    assert asked_key(hub, history, carol, "alice") == "alice carol"


def targets(hub: Hub, peer: Peer, user: User) -> list[str]:
    command(hub, user, "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                       "timestamp=2100-01-01T00:00:00.000Z 10")
    answer = peer.events[-1]
    assert isinstance(answer, TargetsPlayback)
    return [name for name, _ in answer.rows]


def test_targets_asks_for_both_parties_and_names_accounts_by_their_nick_now() -> None:
    history = AskedHistory()
    hub = Hub(HubSettings(), history=history)
    bob, bob_peer = register(hub, "bob")
    alice, _ = register(hub, "ally")
    register(hub, "carol")
    logged_in(hub, bob, "bob")
    logged_in(hub, alice, "Alice")
    # Dave registered an account once and is gone.
    dave, _ = register(hub, "dave")
    logged_in(hub, dave, "Dave")
    hub.disconnect(dave, "Quit")
    history.rows = [TargetActivity("~alice ~bob", 1.0), TargetActivity("bob carol", 2.0),
                    TargetActivity("~bob ~dave", 3.0), TargetActivity("bob zed", 4.0),
                    TargetActivity("~bob ~bob", 5.0)]
    assert targets(hub, bob_peer, bob) == ["ally", "carol", "Dave", "zed", "bob"]
    assert history.queries[-1].parties == ("bob", "~bob")
    # Not logged in: only the nick's side.
    hub.emit(LoggedIn(bob.uid, ""))
    history.rows = []
    targets(hub, bob_peer, bob)
    assert history.queries[-1].parties == ("bob",)
