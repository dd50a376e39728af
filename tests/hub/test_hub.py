"""The hub without sockets: a fake peer records what each person would be told."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from chat_server.config import LimitsSection
from chat_server.hub.events import Chat, Closing, Event, NickChanged, Quit, Reply
from chat_server.hub.hub import Hub, HubSettings
from chat_server.hub.model import User
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message, parse_line


class FakePeer:
    """Records the events written to it, and counts renders across all peers.

    The hub hands every peer of one form the same rendered bytes, so the bytes are a
    key to the event they stand for.
    """

    renders: ClassVar[int] = 0
    _rendered: ClassVar[dict[bytes, Event]] = {}

    def __init__(self, form: Hashable = "irc") -> None:
        self.form = form
        self.events: list[Event] = []
        self.closed: str | None = None

    def render(self, event: Event) -> bytes:
        FakePeer.renders += 1
        key = f"{len(FakePeer._rendered)}".encode()
        FakePeer._rendered[key] = event
        return key

    def write(self, data: bytes) -> None:
        self.events.append(FakePeer._rendered[data])

    def close(self, reason: str) -> None:
        self.closed = reason

    def numerics(self) -> list[str]:
        return [e.numeric for e in self.events if isinstance(e, Reply)]


def make_hub(**limits: int) -> Hub:
    return Hub(HubSettings(limits=LimitsSection(**limits)), clock=lambda: 1_700_000_000.0)


def command(hub: Hub, user: User, line: str) -> None:
    hub.handle(user, parse_line(line))


def register(hub: Hub, nick: str, form: Hashable = "irc") -> tuple[User, FakePeer]:
    peer = FakePeer(form)
    user = hub.connect(peer, "10.0.0.1")
    command(hub, user, f"NICK {nick}")
    command(hub, user, f"USER {nick} 0 * :{nick}")
    assert user.registered
    peer.events.clear()
    return user, peer


def test_a_room_message_is_rendered_once_per_output_form_not_once_per_member() -> None:
    hub = make_hub(flood_rate=0)
    sender, _ = register(hub, "sender")
    command(hub, sender, "JOIN #big")
    members = [register(hub, f"m{i}", form="irc" if i % 2 else "plain") for i in range(50)]
    for user, _ in members:
        command(hub, user, "JOIN #big")
    for _, peer in members:
        peer.events.clear()
    FakePeer.renders = 0
    command(hub, sender, "PRIVMSG #big :hello all")
    assert FakePeer.renders == 2
    for _, peer in members:
        assert [type(e) for e in peer.events] == [Chat]


def test_disconnect_tells_each_room_mate_once_and_empties_rooms_and_tables() -> None:
    hub = make_hub()
    alice, alice_peer = register(hub, "alice")
    bob, bob_peer = register(hub, "bob")
    for room in ("#one", "#two"):
        command(hub, alice, f"JOIN {room}")
        command(hub, bob, f"JOIN {room}")
    bob_peer.events.clear()
    hub.disconnect(alice, "Ping timeout", tell_user="Ping timeout")
    hub.disconnect(alice, "again")
    quits = [e for e in bob_peer.events if isinstance(e, Quit)]
    assert quits == [Quit(alice.source, "Ping timeout", 1_700_000_000.0, quits[0].msgid)]
    assert isinstance(alice_peer.events[-1], Closing)
    assert alice_peer.closed == "Ping timeout"
    assert hub.find_user("alice") is None and alice not in hub.connections
    assert all(alice not in room.members for room in hub.rooms.values())
    hub.disconnect(bob, "Quit")
    assert hub.rooms == {} and hub.users == {}


def test_a_nick_change_reaches_every_neighbour_once_and_frees_the_old_nick() -> None:
    hub = make_hub()
    alice, alice_peer = register(hub, "alice")
    bob, bob_peer = register(hub, "bob")
    for room in ("#one", "#two"):
        command(hub, alice, f"JOIN {room}")
        command(hub, bob, f"JOIN {room}")
    bob_peer.events.clear()
    alice_peer.events.clear()
    command(hub, alice, "NICK alicia")
    assert [type(e) for e in bob_peer.events] == [NickChanged]
    assert [type(e) for e in alice_peer.events] == [NickChanged]
    assert hub.find_user("ALICIA") is alice
    carol, _ = register(hub, "alice")
    assert hub.find_user("alice") is carol


def test_two_unregistered_connections_asking_for_one_nick_the_second_to_finish_gets_433() -> None:
    hub = make_hub()
    first, second = FakePeer(), FakePeer()
    u1, u2 = hub.connect(first, "h1"), hub.connect(second, "h2")
    command(hub, u1, "NICK same")
    command(hub, u2, "NICK same")
    command(hub, u1, "USER a 0 * :a")
    command(hub, u2, "USER b 0 * :b")
    assert u1.registered and not u2.registered
    assert N.ERR_NICKNAMEINUSE in second.numerics()
    command(hub, u2, "NICK other")
    assert u2.registered and hub.find_user("other") is u2


def test_whowas_keeps_only_the_configured_number_of_entries() -> None:
    hub = make_hub(whowas_size=3)
    for i in range(10):
        user, _ = register(hub, f"gone{i}")
        hub.disconnect(user, "Quit")
    assert [e.nick for e in hub.whowas] == ["gone7", "gone8", "gone9"]


def test_msgids_are_unique_and_the_same_message_keeps_its_id_for_every_member() -> None:
    hub = make_hub()
    sender, _ = register(hub, "sender")
    receiver, peer = register(hub, "peer")
    command(hub, sender, "JOIN #r")
    command(hub, receiver, "JOIN #r")
    for i in range(100):
        command(hub, sender, f"PRIVMSG #r,peer :m{i}")
    ids = [e.msgid for e in peer.events if isinstance(e, Chat)]
    assert len(ids) == 200 and len(set(ids)) == 200


def test_shutdown_tells_everyone_including_unregistered_and_forgets_them() -> None:
    hub = make_hub()
    _, registered = register(hub, "alice")
    unregistered = FakePeer()
    hub.connect(unregistered, "h")
    hub.shutdown("Server shutting down")
    for peer in (registered, unregistered):
        assert peer.events[-1] == Closing("Server shutting down")
        assert peer.closed == "Server shutting down"
    assert hub.connections == set() and hub.users == {} and hub.rooms == {}


def test_a_plain_mode_long_message_is_split_so_every_line_fits_in_512_bytes() -> None:
    hub = make_hub()
    sender, _ = register(hub, "sender")
    sender.splits_text = True
    _, peer = register(hub, "peer")
    text = "字" * 400  # 1,200 bytes of UTF-8
    hub.handle(sender, Message("PRIVMSG", ("peer", text)))
    pieces = [e.text for e in peer.events if isinstance(e, Chat)]
    assert "".join(pieces) == text and len(pieces) > 1
    for piece in pieces:
        line = Message("PRIVMSG", ("peer", piece), sender.source.prefix).to_bytes()
        assert len(line) <= 512


def test_an_irc_message_whose_relayed_line_would_pass_512_bytes_is_cut_to_one_line() -> None:
    hub = make_hub()
    sender, _ = register(hub, "sender")
    _, peer = register(hub, "peer")
    text = "a" + "字" * 165  # the sender's line fits in 512 bytes; with the source, not
    assert len(f"PRIVMSG peer :{text}\r\n".encode()) <= 512
    hub.handle(sender, Message("PRIVMSG", ("peer", text)))
    (piece,) = [e.text for e in peer.events if isinstance(e, Chat)]
    assert text.startswith(piece) and len(piece) < len(text)
    line = Message("PRIVMSG", ("peer", piece), sender.source.prefix).to_bytes()
    assert 506 <= len(line) <= 512  # cut at a character, not sooner
