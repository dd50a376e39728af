"""What the hub keeps: every message and room event, once, with the msgid and time it
was relayed with, in the in-memory store (no sockets, no loop)."""

from __future__ import annotations

from support.links import Link

from chat_server.config import HistorySection, StoreSection
from chat_server.hub.events import Chat, Event, Joined, NickChanged, Quit
from chat_server.hub.history import Entry, dm_key
from chat_server.hub.hub import Hub, HubSettings
from chat_server.hub.model import User
from chat_server.hub.playback import entry_event
from chat_server.protocol.message import parse_line
from chat_server.session.irc import IrcSession
from chat_server.store.memory import MemoryStore


class Peer:
    """Keeps the events the hub hands to one person (a form of its own: rendered for it)."""

    def __init__(self) -> None:
        self.form = self
        self.events: list[Event] = []
        self._last: Event | None = None

    def render(self, event: Event) -> bytes:
        self._last = event
        return b"x"

    def write(self, data: bytes) -> None:
        assert self._last is not None
        self.events.append(self._last)

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


def make() -> tuple[Hub, MemoryStore]:
    store = MemoryStore(StoreSection(backend="memory"), HistorySection())
    hub = Hub(HubSettings(), history=store, clock=lambda: 1_700_000_000.1234)
    return hub, store


def kept(store: MemoryStore, target: str) -> list[Entry]:
    return list(store.export(target))


def test_room_events_and_messages_are_kept_in_order_with_the_live_msgid() -> None:
    hub, store = make()
    alice, alice_peer = register(hub, "alice")
    bob, _ = register(hub, "bob")
    command(hub, alice, "JOIN #Dev")
    command(hub, bob, "JOIN #dev")
    command(hub, alice, "TOPIC #dev :release friday")
    command(hub, alice, "MODE #dev +v bob")
    command(hub, bob, "PRIVMSG #dev :hello")
    command(hub, bob, "NOTICE #dev :fyi")
    command(hub, bob, "PRIVMSG #dev :\x01ACTION waves\x01")
    command(hub, bob, "PRIVMSG #dev :\x01VERSION\x01")  # a query: answered, never replayed
    command(hub, alice, "KICK #dev bob :enough")
    command(hub, alice, "PART #dev :bye")
    entries = kept(store, "#dev")
    assert [(e.kind, e.params) for e in entries] == [
        ("JOIN", ("#Dev",)),
        ("JOIN", ("#Dev",)),
        ("TOPIC", ("#Dev", "release friday")),
        ("MODE", ("#Dev", "+v", "bob")),
        ("PRIVMSG", ("#Dev", "hello")),
        ("NOTICE", ("#Dev", "fyi")),
        ("PRIVMSG", ("#Dev", "\x01ACTION waves\x01")),
        ("KICK", ("#Dev", "bob", "enough")),
        ("PART", ("#Dev", "bye")),
    ]
    assert len({e.msgid for e in entries}) == len(entries)
    assert all(e.time == 1_700_000_000.123 for e in entries)  # milliseconds, as tagged
    live = [e for e in alice_peer.events if isinstance(e, Chat) and "VERSION" not in e.text]
    assert [c.msgid for c in live] == [e.msgid for e in entries if e.kind in ("PRIVMSG", "NOTICE")]


def test_quit_and_nick_are_kept_once_per_room_under_one_msgid() -> None:
    hub, store = make()
    alice, _ = register(hub, "alice")
    bob, bob_peer = register(hub, "bob")
    for room in ("#one", "#two"):
        command(hub, alice, f"JOIN {room}")
        command(hub, bob, f"JOIN {room}")
    command(hub, alice, "NICK alicia")
    hub.disconnect(alice, "Quit: gone")
    nicks = [e for room in ("#one", "#two") for e in kept(store, room) if e.kind == "NICK"]
    quits = [e for room in ("#one", "#two") for e in kept(store, room) if e.kind == "QUIT"]
    assert [e.params for e in nicks] == [("alicia",), ("alicia",)]
    assert nicks[0].source.startswith("alice!")
    assert [e.params for e in quits] == [("Quit: gone",), ("Quit: gone",)]
    assert quits[0].source.startswith("alicia!")
    live_nick = next(e for e in bob_peer.events if isinstance(e, NickChanged))
    live_quit = next(e for e in bob_peer.events if isinstance(e, Quit))
    assert {e.msgid for e in nicks} == {live_nick.msgid}
    assert {e.msgid for e in quits} == {live_quit.msgid}


def test_private_messages_are_kept_once_for_both_parties() -> None:
    hub, store = make()
    alice, _ = register(hub, "Alice")
    bob, _ = register(hub, "bob")
    command(hub, alice, "PRIVMSG BOB :hi")
    command(hub, bob, "PRIVMSG alice :hello")
    entries = kept(store, dm_key("alice", "bob"))
    assert [(e.nick, e.params) for e in entries] == [("Alice", ("bob", "hi")),
                                                    ("bob", ("Alice", "hello"))]
    assert kept(store, "alice") == kept(store, "bob") == []


def test_a_kept_entry_renders_as_the_line_it_was() -> None:
    hub, store = make()
    link = Link()
    session = IrcSession(hub, link)
    for line in ("CAP REQ :message-tags echo-message", "NICK alice", "USER a 0 * :A", "CAP END",
                 "JOIN #dev", "PRIVMSG #dev :hi"):
        session.on_line(line.encode())
    live = [line for line in link.lines() if " JOIN " in line or " PRIVMSG " in line]
    replayed = []
    for entry in kept(store, "#dev"):
        event = entry_event(entry)
        assert event is not None
        replayed.append(session.render(event).decode().rstrip("\r\n"))
    assert replayed == live
    assert isinstance(entry_event(kept(store, "#dev")[0]), Joined)
