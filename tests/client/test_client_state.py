"""The client state: buffers, unread counts, mentions, the marker, scrollback, scrolling."""

from __future__ import annotations

from datetime import UTC, datetime

from chat_client import events as ev
from chat_client.state import (
    BufferKind,
    ClientState,
    ConnState,
    LineKind,
    nick_colour_index,
)

T = datetime(2024, 1, 1, tzinfo=UTC)


def say(state: ClientState, room: str, sender: str, text: str, **kw: bool) -> None:
    state.apply(ev.ChatMessage(room, sender, text, ev.MessageKind.PRIVMSG, T, own=False, **kw))


def with_rooms(*rooms: str, scrollback: int = 100) -> ClientState:
    state = ClientState("me", scrollback=scrollback)
    for room in rooms:
        state.apply(ev.Joined(room, "me", True, T))
    return state


def test_own_join_opens_and_switches_to_the_room() -> None:
    state = with_rooms("#a", "#b")
    assert [b.name for b in state.buffers] == ["*server*", "#a", "#b"]
    assert state.active.name == "#b"
    assert state.active.joined


def test_unread_counts_and_mentions_in_other_rooms_only() -> None:
    state = with_rooms("#a", "#b")
    alerts: list[int] = []
    state.on_alert.append(lambda: alerts.append(1))
    say(state, "#a", "bob", "hello all")
    say(state, "#a", "bob", "hey ME, look")
    say(state, "#a", "bob", "meh: not a mention")
    say(state, "#b", "bob", "in the active room")
    a, b = state.find("#a"), state.find("#b")
    assert a is not None and b is not None
    assert (a.unread, a.mentions) == (3, 1)
    assert (b.unread, b.mentions) == (0, 0)
    assert alerts == [1]
    assert [line.mention for line in a.lines if line.kind is LineKind.MESSAGE] == [
        False, True, False]


def test_history_and_own_lines_do_not_count() -> None:
    state = with_rooms("#a", "#b")
    say(state, "#a", "bob", "old news me", history=True)
    state.apply(ev.ChatMessage("#a", "me", "mine", ev.MessageKind.PRIVMSG, T, own=True))
    buf = state.find("#a")
    assert buf is not None and (buf.unread, buf.mentions) == (0, 0)


def test_private_messages_open_a_query_and_count_as_mentions() -> None:
    state = with_rooms("#a")
    state.apply(ev.ChatMessage("bob", "bob", "psst", ev.MessageKind.PRIVMSG, T, own=False,
                               private=True))
    query = state.find("BOB")
    assert query is not None and query.kind is BufferKind.QUERY
    assert (query.unread, query.mentions) == (1, 1)
    # A private NOTICE (services, bots) goes to the server buffer instead.
    state.apply(ev.ChatMessage("NickServ", "NickServ", "hi", ev.MessageKind.NOTICE, T,
                               own=False, private=True))
    assert state.find("NickServ") is None
    assert state.server_buffer.lines[-1].text == "hi"


def test_switching_clears_counts_and_places_the_unread_marker() -> None:
    state = with_rooms("#a", "#b")
    a = state.find("#a")
    assert a is not None
    state.switch_to_buffer(a)
    say(state, "#a", "bob", "seen")
    state.next_buffer()  # to #b: everything in #a so far has been read
    assert state.active.name == "#b"
    say(state, "#a", "bob", "unseen 1")
    say(state, "#a", "bob", "unseen 2")
    state.switch_to_buffer(a)
    assert a.unread == 0
    first_unread = next(line for line in a.lines if line.text == "unseen 1")
    assert a.marker_seq == first_unread.seq
    state.next_buffer(-1)
    state.switch_to_buffer(a)
    assert a.marker_seq is None  # nothing new since


def test_alt_a_prefers_mentions_then_unread() -> None:
    state = with_rooms("#a", "#b", "#c")
    say(state, "#a", "bob", "plain")
    say(state, "#b", "bob", "me: ping")
    state.next_activity()
    assert state.active.name == "#b"
    state.next_activity()
    assert state.active.name == "#a"
    state.next_activity()
    assert state.active.name == "#a"


def test_next_and_previous_wrap_around() -> None:
    state = with_rooms("#a", "#b")
    state.next_buffer()
    assert state.active.name == "*server*"
    state.next_buffer(-1)
    assert state.active.name == "#b"


def test_scrollback_is_bounded() -> None:
    state = with_rooms("#a", scrollback=50)
    for i in range(500):
        say(state, "#a", "bob", f"line {i}")
    buf = state.active
    assert len(buf.lines) == 50
    assert buf.lines[-1].text == "line 499"
    assert buf.lines[0].text == "line 450"


def test_scrolled_view_stays_put_and_counts_new_lines() -> None:
    state = with_rooms("#a")
    for i in range(30):
        say(state, "#a", "bob", f"line {i}")
    state.scroll(10)
    first_shown = next(state.active.iter_back()).text
    assert first_shown == "line 19"
    say(state, "#a", "bob", "newer")
    say(state, "#a", "bob", "newest")
    assert next(state.active.iter_back()).text == "line 19"
    assert state.active.new_below == 2
    state.scroll(-100)
    assert state.active.scroll == 0 and state.active.new_below == 0
    assert next(state.active.iter_back()).text == "newest"


def test_scrolled_view_survives_lines_falling_off_the_top() -> None:
    state = with_rooms("#a", scrollback=20)
    for i in range(20):
        say(state, "#a", "bob", f"line {i}")
    state.scroll(15)
    for i in range(40):
        say(state, "#a", "bob", f"more {i}")
    assert 0 < state.active.scroll < 20
    assert list(state.active.iter_back())


def test_hidden_joins_per_room() -> None:
    state = with_rooms("#a", "#b")
    for room in ("#a", "#b"):
        state.apply(ev.Joined(room, "bob", False, T))
    a, b = state.find("#a"), state.find("#b")
    assert a is not None and b is not None
    a.hide_joins = True
    assert [line.text for line in a.iter_back()] == []
    assert next(line.text for line in b.iter_back()) == "bob joined"
    assert "bob" in a.members


def test_hide_joins_from_config() -> None:
    state = ClientState("me", hide_joins=frozenset({"#Big"}))
    state.apply(ev.Joined("#big", "me", True, T))
    assert state.active.hide_joins


def test_members_follow_names_joins_parts_quits_and_nicks() -> None:
    state = with_rooms("#a")
    state.apply(ev.Names("#a", ("me", "bob", "carol")))
    buf = state.active
    state.apply(ev.Joined("#a", "dave", False, T))
    state.apply(ev.Parted("#a", "carol", "", False, T))
    state.apply(ev.NickChanged("bob", "robert", False, T))
    state.apply(ev.Quit("dave", "bye", T))
    assert sorted(buf.members.values()) == ["me", "robert"]


def test_own_nick_change_moves_mentions() -> None:
    state = with_rooms("#a", "#b")
    state.apply(ev.NickChanged("me", "newme", True, T))
    say(state, "#a", "bob", "newme: hi")
    a = state.find("#a")
    assert a is not None and a.mentions == 1 and state.nick == "newme"


def test_query_follows_a_nick_change() -> None:
    state = with_rooms()
    state.apply(ev.ChatMessage("bob", "bob", "hi", ev.MessageKind.PRIVMSG, T, own=False,
                               private=True))
    state.apply(ev.NickChanged("bob", "robert", False, T))
    assert state.find("robert") is not None and state.find("bob") is None


def test_own_part_closes_the_room() -> None:
    state = with_rooms("#a", "#b")
    state.apply(ev.Parted("#b", "me", "", True, T))
    assert state.find("#b") is None
    assert state.active.name == "#a"


def test_disconnect_marks_rooms_unjoined_and_logs_once() -> None:
    state = with_rooms("#a")
    state.set_connection(ConnState.CONNECTED)
    state.set_connection(ConnState.RECONNECTING, "reset; retry 1 in 2s")
    state.set_connection(ConnState.RECONNECTING, "reset; retry 1 in 1s")
    assert not state.find("#a").joined  # type: ignore[union-attr]
    assert [line.text for line in state.server_buffer.lines].count(
        "Disconnected: reset; retry 1 in 2s") == 1
    assert state.rooms() == ["#a"]
    state.set_connection(ConnState.CONNECTING)
    state.set_connection(ConnState.RECONNECTING, "refused; retry 2 in 2s")
    assert state.server_buffer.lines[-1].text == "Could not connect: refused; retry 2 in 2s"


def test_nick_colours_are_stable_and_fold_case() -> None:
    # CRC-32 is fixed by its standard, so these hold on every run and machine.
    assert [nick_colour_index(n, 12) for n in ("alice", "bob", "张三")] == [11, 8, 10]
    assert nick_colour_index("ALICE", 12) == nick_colour_index("alice", 12)
