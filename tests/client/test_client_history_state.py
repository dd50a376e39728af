"""History in the client state: merged by time, once per msgid, with the view and counts right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chat_client import events as ev
from chat_client.state import Buffer, ClientState, LineKind

BASE = datetime(2024, 5, 1, 10, tzinfo=UTC)
LATEST, OLDER, MISSED = ev.HistoryPurpose.LATEST, ev.HistoryPurpose.OLDER, ev.HistoryPurpose.MISSED


def at(n: int) -> datetime:
    return BASE + timedelta(seconds=n)


def message(n: int, room: str = "#a", sender: str = "bob", text: str = "",
            when: datetime | None = None) -> ev.ChatMessage:
    return ev.ChatMessage(room, sender, text or f"line {n}", ev.MessageKind.PRIVMSG,
                          when or at(n), own=False, history=True, msgid=f"m{n}")


def page(purpose: ev.HistoryPurpose, numbers: range | list[int], room: str = "#a"
         ) -> ev.HistoryBatch:
    return ev.HistoryBatch(room, purpose, tuple(message(n, room) for n in numbers))


def live(state: ClientState, n: int, room: str = "#a", text: str = "") -> None:
    state.apply(ev.ChatMessage(room, "bob", text or f"line {n}", ev.MessageKind.PRIVMSG,
                               at(n), own=False, msgid=f"m{n}"))


def joined(*rooms: str, when: int = 1000, scrollback: int = 2000) -> ClientState:
    state = ClientState("me", scrollback=scrollback)
    for room in rooms:
        state.apply(ev.Joined(room, "me", True, at(when)))
    return state


def texts(buf: Buffer) -> list[str]:
    return [line.text for line in buf.lines]


def room(state: ClientState, name: str = "#a") -> Buffer:
    buf = state.find(name)
    assert buf is not None
    return buf


def test_the_latest_page_goes_above_the_join_and_is_not_news() -> None:
    state = joined("#a", "#b")  # #b is in view; #a is not
    state.apply(page(LATEST, range(1, 4)))
    a = room(state)
    assert texts(a) == ["line 1", "line 2", "line 3", "You joined #a"]
    assert [line.time for line in a.lines][:3] == [at(1), at(2), at(3)]
    assert (a.unread, a.mentions) == (0, 0)
    state.switch_to_buffer(a)
    assert a.marker_seq is None  # nothing unread, so no marker


def test_a_line_seen_live_and_again_in_history_appears_once() -> None:
    state = joined("#a")
    live(state, 1001)
    state.apply(page(LATEST, [998, 999, 1001]))
    assert texts(room(state)) == ["line 998", "line 999", "You joined #a", "line 1001"]
    live(state, 999)  # and the other way round: history first, then the same line live
    assert texts(room(state)).count("line 999") == 1


def test_an_older_page_goes_on_top_without_moving_the_view() -> None:
    state = joined("#a")
    state.apply(page(LATEST, range(100, 130)))
    a = state.active
    state.scroll(20)
    bottom = next(a.iter_back())
    scroll = a.scroll
    state.apply(page(OLDER, range(50, 100)))
    assert texts(a)[:2] == ["line 50", "line 51"] and texts(a)[49:51] == ["line 99", "line 100"]
    assert next(a.iter_back()) is bottom  # the line the user was looking at stays put
    assert a.scroll == scroll and a.new_below == 0
    # Following the newest lines, an older page changes nothing at the bottom either.
    state.scroll(-1000)
    state.apply(page(OLDER, range(10, 50)))
    assert next(a.iter_back()).text == "You joined #a" and a.scroll == 0
    assert texts(a)[0] == "line 10"


def test_lines_inserted_below_a_scrolled_view_count_as_new_below() -> None:
    state = joined("#a", when=0)
    state.apply(page(LATEST, range(1, 40)))
    a = state.active
    state.scroll(30)
    bottom = next(a.iter_back())
    state.apply(page(MISSED, [2000, 2001]))
    assert next(a.iter_back()) is bottom and a.new_below == 2


def test_an_empty_or_failed_page_means_no_more_history() -> None:
    state = joined("#a", "#b")
    a, b = room(state, "#a"), room(state, "#b")
    a.loading_older = True
    state.apply(ev.HistoryBatch("#a", OLDER, ()))
    assert a.history_complete and not a.loading_older
    state.apply(ev.HistoryBatch("#b", OLDER, (), error="Messages could not be retrieved"))
    assert b.history_complete
    assert b.lines[-1].kind is LineKind.ERROR
    assert b.lines[-1].text == "No history for #b: Messages could not be retrieved"


def test_missed_lines_count_as_unread_and_the_marker_goes_above_the_first() -> None:
    state = joined("#a", "#b", when=0)  # in #b; #a in the background
    a = room(state)
    live(state, 10)
    state.switch_to_buffer(a)
    state.next_buffer()  # back to #b: "line 10" has been read
    alerts: list[int] = []
    state.on_alert.append(lambda: alerts.append(1))
    # Reconnected: rejoined, one line arrives live before the catch-up page.
    state.apply(ev.Joined("#a", "me", True, at(100)))
    live(state, 101)
    state.apply(page(MISSED, [20, 30]))
    state.apply(ev.HistoryBatch("#a", MISSED, (message(40, text="me: you there?"),)))
    assert texts(a)[-6:] == ["line 10", "line 20", "line 30", "me: you there?",
                             "You joined #a", "line 101"]
    assert (a.unread, a.mentions) == (4, 1)
    assert alerts == []  # missed while away: counted, but no bell for old news
    state.switch_to_buffer(a)
    first_missed = next(line for line in a.lines if line.text == "line 20")
    assert a.marker_seq == first_missed.seq


def test_missed_lines_in_the_room_in_view_are_not_unread() -> None:
    state = joined("#a")
    state.apply(page(MISSED, [5, 6]))
    assert state.active.unread == 0


def test_history_from_ignored_nicks_is_hidden() -> None:
    state = joined("#a")
    state.ignores.add("bob")
    state.apply(page(LATEST, [1, 2]))
    assert texts(state.active) == ["You joined #a"]


def test_a_full_scrollback_keeps_the_newest_lines() -> None:
    state = joined("#a", scrollback=10)
    state.apply(page(LATEST, range(100, 108)))
    a = state.active
    # Older lines that do not fit are not kept; the page's newest are.
    state.apply(page(OLDER, range(90, 100)))
    assert texts(a)[:2] == ["line 99", "line 100"] and len(a.lines) == 10
    # A line merged in the middle pushes the oldest out, and its msgid with it.
    state.apply(ev.HistoryBatch("#a", MISSED, (message(999, when=at(104) + timedelta(
        milliseconds=500)),)))
    assert len(a.lines) == 10 and "m99" not in a.msgids and texts(a)[0] == "line 100"
    assert texts(a)[4:7] == ["line 104", "line 999", "line 105"]


def test_clear_forgets_the_msgids_too() -> None:
    state = joined("#a")
    state.apply(page(LATEST, [1, 2]))
    state.active.clear()
    state.apply(page(LATEST, [1, 2]))
    assert texts(state.active) == ["line 1", "line 2"]


def test_history_for_a_buffer_closed_meanwhile_does_not_reopen_it() -> None:
    state = joined("#a", "#b")
    state.apply(ev.Parted("#b", "me", "", True, at(1001)))
    state.apply(page(LATEST, [1, 2], room="#b"))
    assert state.find("#b") is None
