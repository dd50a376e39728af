"""The full-screen UI driven through a pipe: keys in, state and wire checked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from client.clienthelpers import Wire, feed, make_client, until
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.input.base import PipeInput
from prompt_toolkit.output import DummyOutput

from chat_client.client import Client
from chat_client.state import LineKind
from chat_client.ui.app import ChatUI
from chat_client.ui.layout import MessagePane, fit, room_list, wrap

UP = "\x1b[A"
PAGE_UP = "\x1b[5~"
PAGE_DOWN = "\x1b[6~"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


@asynccontextmanager
async def running(client: Client) -> AsyncIterator[tuple[ChatUI, PipeInput]]:
    with create_pipe_input() as pipe:
        ui = ChatUI(client, input=pipe, output=DummyOutput())
        task = asyncio.create_task(ui.application.run_async())
        await until(lambda: ui.application.is_running)
        try:
            yield ui, pipe
        finally:
            if ui.application.future is not None and not ui.application.future.done():
                ui.application.exit()
            await task


def sent_text(wire: Wire) -> list[str]:
    return [m.params[1] for m in wire.take() if m.command == "PRIVMSG"]


def pane_text(ui: ChatUI, width: int = 80, height: int = 20) -> list[str]:
    content = MessagePane(ui.state).create_content(width, height)
    return ["".join(text for _, text, *_ in content.get_line(i)) for i in range(height)]


async def test_enter_sends_and_commands_change_state() -> None:
    client, wire = make_client()
    async with running(client) as (ui, pipe):
        pipe.send_text("hello world\r")
        await until(lambda: wire.data != b"")
        assert sent_text(wire) == ["hello world"]
        assert ui.input_buffer.text == ""
        pipe.send_text("/join #dev\r")
        await until(lambda: ui.state.active.name == "#dev")
        assert wire.commands() == ["JOIN #dev"]


async def test_history_and_reverse_search() -> None:
    client, wire = make_client()
    async with running(client) as (ui, pipe):
        pipe.send_text("alpha one\rbeta two\r")
        await until(lambda: len(ui.input_buffer.history.get_strings()) == 2)
        assert sent_text(wire) == ["alpha one", "beta two"]
        # The buffer reloads its history in the background after each submit (a person
        # cannot press Up that fast); wait for the reload rather than race it.
        await until(lambda: len(ui.input_buffer._working_lines) == 3)
        pipe.send_text(UP)
        await until(lambda: ui.input_buffer.text == "beta two")
        pipe.send_text(UP)
        await until(lambda: ui.input_buffer.text == "alpha one")
        pipe.send_text("\r")  # sends the recalled line, leaving a fresh one
        await until(lambda: len(ui.input_buffer._working_lines) == 4)
        assert sent_text(wire) == ["alpha one"]
        pipe.send_text("\x12bet")
        await until(lambda: ui.application.layout.is_searching)
        pipe.send_text("\r")
        await until(lambda: not ui.application.layout.is_searching)
        assert ui.input_buffer.text == "beta two"


async def test_tab_completes_a_nick_at_line_start() -> None:
    client, _ = make_client()
    async with running(client) as (ui, pipe):
        pipe.send_text("bo\t")
        await until(lambda: ui.input_buffer.text == "bob: ")
        pipe.send_text("hi ca\t")
        await until(lambda: ui.input_buffer.text == "bob: hi carol ")


async def test_switching_rooms_with_keys() -> None:
    client, _ = make_client(rooms=("#a", "#b", "#c"))
    async with running(client) as (ui, pipe):
        state = ui.state
        assert state.active.name == "#a"
        pipe.send_text("\x1b1")
        await until(lambda: state.active.name == "*server*")
        pipe.send_text("\x0e")
        await until(lambda: state.active.name == "#a")
        pipe.send_text("\x10")
        await until(lambda: state.active.name == "*server*")
        feed(client, ":bob!b@h PRIVMSG #b :plain", ":bob!b@h PRIVMSG #c :me: look")
        b = state.find("#b")
        assert b is not None and b.unread == 1
        pipe.send_text("\x1ba")
        await until(lambda: state.active.name == "#c")
        pipe.send_text("\x1ba")
        await until(lambda: state.active.name == "#b")
        assert b.unread == 0


async def test_page_up_holds_the_view_and_counts_new_lines() -> None:
    client, _ = make_client()
    for i in range(200):
        feed(client, f":bob!b@h PRIVMSG #lobby :line {i}")
    async with running(client) as (ui, pipe):
        pipe.send_text(PAGE_UP)
        await until(lambda: ui.state.active.scroll > 0)
        before = pane_text(ui)
        feed(client, ":bob!b@h PRIVMSG #lobby :fresh")
        after = pane_text(ui)
        assert after[:-1] == before[:-1]
        assert "1 new below" in after[-1]
        pipe.send_text(PAGE_DOWN * 10)
        await until(lambda: ui.state.active.scroll == 0)
        assert "fresh" in pane_text(ui)[-1]


async def test_a_long_paste_is_reviewed_before_sending() -> None:
    client, wire = make_client()
    async with running(client) as (ui, pipe):
        pipe.send_text(f"{PASTE_START}one\ntwo\nthree\nfour\nfive{PASTE_END}")
        await until(lambda: ui.input_buffer.text == "one\ntwo\nthree\nfour\nfive")
        assert wire.data == b""
        pipe.send_text("\r")
        await until(lambda: ui.paste_pending)
        assert "Send 5 lines" in ui.state.status
        assert wire.data == b""
        pipe.send_text("\r")
        await until(lambda: not ui.input_buffer.text)
        assert sent_text(wire) == ["one", "two", "three", "four", "five"]


async def test_a_short_paste_goes_at_once_and_editing_cancels_review() -> None:
    client, wire = make_client()
    async with running(client) as (ui, pipe):
        pipe.send_text(f"{PASTE_START}one\ntwo{PASTE_END}\r")
        await until(lambda: wire.data != b"")
        assert sent_text(wire) == ["one", "two"]
        pipe.send_text(f"{PASTE_START}1\n2\n3\n4{PASTE_END}\r")
        await until(lambda: ui.paste_pending)
        pipe.send_text("5")
        await until(lambda: not ui.paste_pending)
        assert ui.state.status == ""


async def test_mention_rings_the_bell() -> None:
    client, _ = make_client(rooms=("#a", "#b"))
    async with running(client) as (ui, _pipe):
        rings: list[int] = []
        ui.application.output.bell = lambda: rings.append(1)  # type: ignore[method-assign]
        feed(client, ":bob!b@h PRIVMSG #a :hi me", ":bob!b@h PRIVMSG #a :hi all")
        assert rings == [1]


async def test_ctrl_c_and_ctrl_d_leave_cleanly() -> None:
    for key in ("\x03", "\x04"):
        client, wire = make_client()
        async with running(client) as (ui, pipe):
            pipe.send_text(key)
            await until(lambda: ui.application.future is not None
                        and ui.application.future.done())
        assert wire.commands() == ["QUIT Leaving"]


async def test_quit_command_leaves() -> None:
    client, wire = make_client()
    async with running(client) as (ui, pipe):
        pipe.send_text("/quit bye all\r")
        await until(lambda: ui.application.future is not None and ui.application.future.done())
    assert wire.commands() == ["QUIT :bye all"]


def test_unread_marker_and_room_list_marks() -> None:
    client, _ = make_client(rooms=("#a", "#b"))
    state = client.state
    state.next_buffer()
    feed(client, ":bob!b@h PRIVMSG #a :first", ":bob!b@h PRIVMSG #a :me: second")
    listing = "".join(text for _, text, *_ in room_list(state)())
    assert " 2 #a" in listing and "2!" in listing
    a = state.find("#a")
    assert a is not None
    state.switch_to_buffer(a)
    ui = ChatUI(client, output=DummyOutput())
    rows = [row.strip() for row in pane_text(ui) if row.strip()]
    marker = next(i for i, row in enumerate(rows) if "unread" in row and "─" in row)
    assert "first" in rows[marker + 1] and "second" in rows[marker + 2]


def test_wide_characters_keep_columns_aligned() -> None:
    client, _ = make_client()
    feed(client, ":张三!z@h PRIVMSG #lobby :" + "你好" * 40,
         ":bob!b@h PRIVMSG #lobby :🎉 party " * 3)
    ui = ChatUI(client, output=DummyOutput())
    from prompt_toolkit.utils import get_cwidth
    rows = [row for row in pane_text(ui, width=60) if row.strip()]
    seps = {get_cwidth(row[: row.index("│")]) for row in rows}
    assert len(seps) == 1
    assert all(get_cwidth(row) <= 60 for row in rows)
    assert fit("张三丰", 5) == "张三…" and fit("ab", 4, right=True) == "  ab"
    assert wrap("aaa bbb ccc", 7) == ["aaa bbb", "ccc"]


def test_the_pane_shows_the_newest_lines_of_a_long_scrollback() -> None:
    client, _ = make_client(scrollback=20000)
    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(10_000):
        client.state.add_line(client.state.active, LineKind.MESSAGE, f"message {i}", "bob",
                              time=stamp)
    content = MessagePane(client.state).create_content(120, 50)
    assert "message 9999" in "".join(t for _, t, *_ in content.get_line(49))
    assert "message 9950" in "".join(t for _, t, *_ in content.get_line(0))


async def test_typing_stays_responsive_while_10000_messages_arrive() -> None:
    client, _ = make_client(scrollback=2000)
    lines = [f":bob!b@h PRIVMSG #lobby :flood message {i}\r\n".encode() for i in range(10_000)]
    async with running(client) as (ui, pipe):
        async def flood() -> None:
            # The network layer hands over one read (about 64 KiB) per loop turn.
            for start in range(0, len(lines), 1000):
                client.receive(b"".join(lines[start:start + 1000]))
                await asyncio.sleep(0)

        flooding = asyncio.create_task(flood())
        delays = []
        for ch in "typing":
            started = time.perf_counter()
            pipe.send_text(ch)
            await until(lambda ch=ch: ui.input_buffer.text.endswith(ch))  # type: ignore[misc]
            delays.append(time.perf_counter() - started)
        await flooding
        assert ui.input_buffer.text == "typing"
        assert len(ui.state.active.lines) == 2000
        # A UI that stops reading keys while drawing shows up as seconds, not milliseconds.
        assert max(delays) < 2.0, delays
