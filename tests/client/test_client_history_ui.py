"""History in the full-screen UI, driven through a pipe: what PageUp asks for and shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from client.clienthelpers import Wire, feed, make_client, until
from client.test_client_ui import PAGE_DOWN, PAGE_UP, running
from prompt_toolkit.input.base import PipeInput

from chat_client.client import Client
from chat_client.state import ConnState
from chat_client.ui.app import ChatUI
from chat_client.ui.layout import MessagePane, room_list

CAPS = "server-time echo-message message-tags batch draft/chathistory"
BASE = datetime(2024, 5, 1, 10, tzinfo=UTC)


def at(n: int) -> datetime:
    return BASE + timedelta(minutes=n)


def clock(n: int) -> str:
    """How the pane shows the time of line n (local time, the default %H:%M)."""
    return at(n).astimezone().strftime("%H:%M")


def stamp(n: int) -> str:
    return at(n).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def batch(ref: str, room: str, numbers: range) -> list[str]:
    return [f":srv BATCH +{ref} chathistory {room}",
            *(f"@batch={ref};msgid=m{n};time={stamp(n)} :bob!b@h PRIVMSG {room} :line {n}"
              for n in numbers),
            f":srv BATCH -{ref}"]


def history_client(*rooms: str, latest: range = range(100, 150)) -> tuple[Client, Wire]:
    """A client that joined `rooms` and was sent `latest` as each room's newest page."""
    client, wire = make_client(caps=CAPS, rooms=rooms)
    for i, room in enumerate(rooms):
        feed(client, *batch(f"j{i}", room, latest))
    return client, wire


def history_requests(wire: Wire) -> list[str]:
    return [m.to_line() for m in wire.take() if m.command == "CHATHISTORY"]


async def keys(ui: ChatUI, pipe: PipeInput, text: str) -> None:
    """Send keys and wait until all have been handled (a marker typed after them shows)."""
    pipe.send_text(text + "#")
    await until(lambda: ui.input_buffer.text.endswith("#"))
    ui.input_buffer.text = ""


def rows_of(pane: MessagePane, width: int, height: int) -> list[str]:
    content = pane.create_content(width, height)
    return ["".join(text for _, text, *_ in content.get_line(i)) for i in range(height)]


def screen(ui: ChatUI) -> list[str]:
    """The message pane at the size the application last drew it."""
    assert ui.pane.size is not None
    return rows_of(ui.pane, *ui.pane.size)


def test_joining_shows_the_latest_lines_with_their_own_times() -> None:
    client, wire = make_client(caps=CAPS)
    # make_client has answered registration and the JOIN; the request went out then.
    feed(client, *batch("j", "#lobby", range(100, 150)))
    buf = client.state.active
    assert [line.text for line in buf.lines][-3:] == ["line 148", "line 149",
                                                      "You joined #lobby"]
    assert buf.unread == 0
    rows = [row for row in rows_of(MessagePane(client.state), 80, 20) if row.strip()]
    assert rows[-1].endswith("You joined #lobby")
    # Days ago: a rule names the day the live lines begin, under the history's times.
    today = buf.lines[-1].time.astimezone()
    assert f" {today:%A} {today.day} {today:%B %Y} " in rows[-2]
    assert rows[-3].startswith(f"{clock(149)}          bob │ line 149")
    assert rows[-4].startswith(f"{clock(148)}          bob │ line 148")
    assert wire.take() == []


async def test_page_up_at_the_top_loads_the_page_before_without_moving_the_view() -> None:
    client, wire = history_client("#lobby")
    async with running(client) as (ui, pipe):
        await until(lambda: ui.pane.size is not None)
        buf = ui.state.active
        await keys(ui, pipe, PAGE_UP)
        assert buf.loading_older
        assert history_requests(wire) == ["CHATHISTORY BEFORE #lobby msgid=m100 50"]
        await keys(ui, pipe, PAGE_UP)  # still waiting: no second request for the room
        before = screen(ui)
        # The top line stops on the top row, under a note, rather than scrolling away.
        assert "loading older lines…" in before[0] and before[1].endswith("line 100")
        assert history_requests(wire) == []
        feed(client, *batch("o1", "#lobby", range(50, 100)))
        after = screen(ui)
        assert after[1:] == before[1:]  # the lines in view did not move
        assert after[0].endswith("line 99")
        # Paging on goes a page into the new lines and, near their top, asks for more.
        await keys(ui, pipe, PAGE_UP)
        assert buf.loading_older
        assert screen(ui)[-2].endswith(f"line {134 - ui.page_size()}")
        assert history_requests(wire) == ["CHATHISTORY BEFORE #lobby msgid=m50 50"]


async def test_an_empty_page_says_where_history_begins_and_stops_the_asking() -> None:
    client, wire = history_client("#lobby", latest=range(1, 11))
    async with running(client) as (ui, pipe):
        await keys(ui, pipe, PAGE_UP)
        assert ui.state.active.loading_older
        assert history_requests(wire) == ["CHATHISTORY BEFORE #lobby msgid=m1 50"]
        feed(client, ":srv BATCH +e chathistory #lobby", ":srv BATCH -e")
        rows = [row for row in screen(ui) if row.strip()]
        assert "beginning of history" in rows[0]
        assert rows[1].endswith("line 1")
        await keys(ui, pipe, PAGE_DOWN + PAGE_UP + PAGE_UP)
        assert history_requests(wire) == []


async def test_after_a_reconnect_missed_lines_are_fetched_and_counted_unread() -> None:
    client, wire = history_client("#lobby", "#dev")
    state = client.state
    state.switch_to(1)  # looking at #lobby; #dev is in the background
    async with running(client) as (ui, _):
        client.detach()
        state.set_connection(ConnState.RECONNECTING, "connection closed by server")
        client.attach(wire.write)
        feed(client, f":srv CAP * LS :{CAPS}", f":srv CAP me ACK :{CAPS}",
             ":srv 001 me :Welcome back")
        wire.take()
        feed(client, ":me!u@h JOIN #lobby", ":me!u@h JOIN #dev")
        assert history_requests(wire) == ["CHATHISTORY AFTER #lobby msgid=m149 50",
                                          "CHATHISTORY AFTER #dev msgid=m149 50"]
        # Said just after the rejoin: live first, then again in the answer.
        feed(client, f"@msgid=m152;time={stamp(152)} :bob!b@h PRIVMSG #dev :line 152")
        feed(client, *batch("a", "#lobby", range(150, 152)), *batch("b", "#dev", range(150, 153)))
        dev = state.find("#dev")
        lobby = state.active
        assert dev is not None and (dev.unread, lobby.unread) == (3, 0)
        assert [line.text for line in dev.lines].count("line 152") == 1
        listed = "".join(piece[1] for piece in room_list(state)()).split("\n")
        assert next(row for row in listed if "#dev" in row).rstrip().endswith("3")
        assert history_requests(wire) == []
        await until(lambda: any(row.endswith("line 151") for row in screen(ui)))
