"""The full-screen layout, built from functions that read the state at render time.

Owns how the state looks: the room list, the topic bar, the message pane (wrapping by
display width, the unread marker, the "N new below" indicator, the note at the top
while older history loads or once there is none, a rule where the day changes), the
member list, the status line and the input line. Draws only what fits on screen, so a
room with 10,000 lines renders as fast as one with ten. Must not import key bindings
or the network layer; it changes nothing in the state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout import (
    ConditionalContainer,
    Dimension,
    FormattedTextControl,
    HSplit,
    Layout,
    UIContent,
    UIControl,
    VSplit,
    Window,
)
from prompt_toolkit.layout.controls import BufferControl
from prompt_toolkit.utils import get_cwidth
from prompt_toolkit.widgets import SearchToolbar

from chat_client.state import (
    NOISE,
    BufferKind,
    ClientState,
    ConnState,
    Line,
    LineKind,
    nick_colour_index,
)
from chat_client.text import clean
from chat_client.ui.secret import MaskSecrets
from chat_client.ui.style import NICK_PALETTE

if TYPE_CHECKING:
    from chat_client.ui.app import ChatUI

ROOMLIST_WIDTH = 20
MEMBERS_WIDTH = 18
# Below these terminal widths the side panels give their room to the messages.
ROOMLIST_MIN_COLUMNS = 60
MEMBERS_MIN_COLUMNS = 90
INPUT_MAX_ROWS = 6


def fit(text: str, width: int, *, right: bool = False) -> str:
    """Pad or cut `text` to exactly `width` terminal columns (wide characters count 2)."""
    if width <= 0:
        return ""
    used = get_cwidth(text)
    if used > width:
        out, used = [], 0
        for ch in text:
            w = get_cwidth(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "…"
        used += 1
    pad = " " * (width - used)
    return pad + text if right else text + pad


def wrap(text: str, width: int) -> list[str]:
    """Break text into rows of at most `width` columns, at a space when one is near."""
    width = max(width, 1)
    rows: list[str] = []
    row: list[str] = []
    used = 0
    last_space = -1
    for ch in text:
        w = get_cwidth(ch)
        if used + w > width:
            if last_space > 0 and last_space > len(row) // 2:
                rows.append("".join(row[:last_space]))
                row = row[last_space + 1 :]
            else:
                rows.append("".join(row))
                row = []
            used = sum(get_cwidth(c) for c in row)
            last_space = -1
            if ch == " " and not row:
                continue  # the break itself stands for this space
        if ch == " ":
            last_space = len(row)
        row.append(ch)
        used += w
    rows.append("".join(row))
    return rows


def nick_style(nick: str) -> str:
    return f"class:nick.{nick_colour_index(nick, len(NICK_PALETTE))}"


class MessagePane(UIControl):
    """The active buffer's lines, newest at the bottom, drawn from the bottom up."""

    def __init__(self, state: ClientState, timestamp_format: str = "%H:%M") -> None:
        self.state = state
        self.timestamp_format = timestamp_format
        # The size it was last drawn at, to know how far back the view can go.
        self.size: tuple[int, int] | None = None

    def is_focusable(self) -> bool:
        return False

    def _rows(self, line: Line, width: int) -> list[StyleAndTextTuples]:
        nick_w = 12 if width >= 60 else 8
        stamp = line.time.astimezone().strftime(self.timestamp_format) + " " \
            if width >= 40 else ""
        text = clean(line.text)
        if line.kind is LineKind.MESSAGE:
            who, who_style = line.nick, nick_style(line.nick)
            body_style = "class:mention" if line.mention else ""
        elif line.kind is LineKind.ACTION:
            who, who_style, text = "*", nick_style(line.nick), f"{line.nick} {text}"
            body_style = "class:mention" if line.mention else "italic"
        elif line.kind is LineKind.NOTICE:
            who, who_style = f"-{line.nick}-", nick_style(line.nick)
            body_style = "class:mention" if line.mention else ""
        elif line.kind in NOISE:
            who = "-->" if line.kind is LineKind.JOIN else "<--" if line.kind in (
                LineKind.PART, LineKind.QUIT) else "--"
            who_style, body_style = "class:noise", "class:noise"
        elif line.kind is LineKind.TOPIC:
            who, who_style, body_style = "--", "class:noise", "class:topicline"
        elif line.kind is LineKind.ERROR:
            who, who_style, body_style = "!!", "class:error", "class:error"
        else:
            who, who_style, body_style = "--", "class:info", "class:info"
        if line.own:
            who_style += " class:own"
        prefix: StyleAndTextTuples = [
            ("class:time", stamp),
            (who_style, fit(clean(who), nick_w, right=True)),
            ("class:sep", " │ "),
        ]
        indent = get_cwidth(stamp) + nick_w + 3
        body_w = max(width - indent, 8)
        pieces = wrap(text, body_w)
        rows: list[StyleAndTextTuples] = [[*prefix, (body_style, pieces[0])]]
        for piece in pieces[1:]:
            rows.append([("", " " * (indent - 2)), ("class:sep", "│ "), (body_style, piece)])
        return rows

    def max_scroll(self) -> int | None:
        """How far back the view can go with the top line still on the top row.

        One row stays free above the top line for the note about older history.
        None before the first drawing.
        """
        if self.size is None:
            return None
        width, height = self.size
        buf = self.state.active
        rows = 1
        day: date | None = None
        for i, line in enumerate(buf.lines):
            if not buf.visible(line):
                continue
            rows += len(self._rows(line, width)) + (line.seq == buf.marker_seq)
            rows += day is not None and _day(line) != day
            day = _day(line)
            if rows >= height:
                return len(buf.lines) - 1 - i
        return 0

    def create_content(self, width: int, height: int) -> UIContent:
        self.size = (width, height)
        buf = self.state.active
        chunks: list[list[StyleAndTextTuples]] = []
        count = 0
        marker = buf.marker_seq
        placed = marker is None
        exhausted = True
        newer: Line | None = None
        for line in buf.iter_back():
            if count >= height:
                exhausted = False
                break
            if newer is not None and _day(line) != _day(newer):
                # History can reach back days; a time alone would not say which day.
                chunks.append([self._rule(f" {_day_label(_day(newer))} ", width,
                                          "class:noise")])
                count += 1
            newer = line
            rows = self._rows(line, width)
            chunks.append(rows)
            count += len(rows)
            if line.seq == marker:
                # Drawn from the bottom up: the marker goes above the first unread line.
                chunks.append([self._marker(width)])
                count += 1
                placed = True
        if not placed and exhausted and chunks:
            chunks.append([self._marker(width)])
        if exhausted and (buf.loading_older or buf.history_complete):
            label = " loading older lines… " if buf.loading_older else " beginning of history "
            chunks.append([self._rule(label, width, "class:noise")])
        rows = [row for chunk in reversed(chunks) for row in chunk][-height:] if height else []
        if buf.scroll and rows:
            note = f" ↓ {buf.new_below} new below (PgDn) " if buf.new_below \
                else " ↓ scrolled back (PgDn) "
            rows[-1] = [("class:newbelow", fit(note, min(width, get_cwidth(note))))]
        rows = [[] for _ in range(height - len(rows))] + rows

        def get_line(i: int) -> StyleAndTextTuples:
            return rows[i] if 0 <= i < len(rows) else []

        return UIContent(get_line=get_line, line_count=len(rows), show_cursor=False)

    @classmethod
    def _marker(cls, width: int) -> StyleAndTextTuples:
        return cls._rule(" unread ", width, "class:marker")

    @staticmethod
    def _rule(label: str, width: int, style: str) -> StyleAndTextTuples:
        side = max((width - len(label)) // 2, 0)
        return [(style, "─" * side + label + "─" * max(width - side - len(label), 0))]


def _day(line: Line) -> date:
    return line.time.astimezone().date()


def _day_label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def room_list(state: ClientState) -> Callable[[], StyleAndTextTuples]:
    def render() -> StyleAndTextTuples:
        out: StyleAndTextTuples = []
        for i, buf in enumerate(state.buffers):
            number = f"{i + 1:>2} " if i < 9 else "   "
            count = f" {buf.unread}" if buf.unread else ""
            mark = "!" if buf.mentions else " "
            name = fit(buf.name, ROOMLIST_WIDTH - len(number) - len(count) - 2)
            if buf is state.active:
                style = "class:roomlist.active"
            elif buf.mentions:
                style = "class:roomlist.mention"
            elif buf.unread:
                style = "class:roomlist.unread"
            elif buf.kind is BufferKind.ROOM and not buf.joined:
                style = "class:roomlist.parted"
            else:
                style = "class:roomlist"
            out.append((style, f"{number}{name}{count}{mark} \n"))
        return out
    return render


def member_list(state: ClientState) -> Callable[[], StyleAndTextTuples]:
    def render() -> StyleAndTextTuples:
        buf = state.active
        out: StyleAndTextTuples = [("bold", fit(f" {len(buf.members)} members", MEMBERS_WIDTH)
                                    + "\n")]
        for key in sorted(buf.members):
            style = "class:members.away" if key in buf.away else nick_style(buf.members[key])
            out.append((style, " " + fit(buf.members[key], MEMBERS_WIDTH - 1) + "\n"))
        return out
    return render


def topic_bar(state: ClientState) -> Callable[[], StyleAndTextTuples]:
    def render() -> StyleAndTextTuples:
        buf = state.active
        topic = f" — {clean(buf.topic)}" if buf.topic else ""
        return [("class:topic", f" {buf.name}{topic}")]
    return render


def status_line(ui: ChatUI) -> Callable[[], StyleAndTextTuples]:
    state = ui.state

    def render() -> StyleAndTextTuples:
        out: StyleAndTextTuples = [("class:status.nick", f" {state.nick}")]
        if state.account:
            out.append(("", f" (logged in as {state.account})"))
        out += [
            ("", f" @ {state.server} "),
            (f"class:status.{state.conn.value}", f"[{state.conn.value}"),
        ]
        if state.conn_detail and state.conn is not ConnState.CONNECTED:
            out.append((f"class:status.{state.conn.value}", f": {state.conn_detail}"))
        out.append((f"class:status.{state.conn.value}", "]"))
        if state.lag is not None:
            out.append(("", f" lag {state.lag * 1000:.0f}ms"))
        if state.away:
            out.append(("", " (away)"))
        if state.active.scroll:
            out.append(("class:status.hint", f" [{state.active.new_below} new below]"))
        if state.status:
            out.append(("class:status.hint", f" {state.status}"))
        return out
    return render


def build_layout(ui: ChatUI, search: SearchToolbar) -> Layout:
    """The whole screen; every piece reads `ui.state` when it is drawn."""
    state = ui.state

    def columns() -> int:
        return ui.application.output.get_size().columns

    show_rooms = Condition(lambda: columns() >= ROOMLIST_MIN_COLUMNS)
    show_members = Condition(
        lambda: state.show_members and state.active.kind is BufferKind.ROOM
        and columns() >= MEMBERS_MIN_COLUMNS
    )
    input_window = Window(
        BufferControl(ui.input_buffer, search_buffer_control=search.control,
                      input_processors=[MaskSecrets()]),
        height=lambda: Dimension(
            min=1, max=INPUT_MAX_ROWS, preferred=ui.input_buffer.document.line_count
        ),
        wrap_lines=True,
        dont_extend_height=True,
    )
    body = VSplit(
        [
            ConditionalContainer(
                VSplit([
                    Window(FormattedTextControl(room_list(state)), width=ROOMLIST_WIDTH,
                           style="class:roomlist"),
                    Window(width=1, char="│", style="class:sep"),
                ]),
                filter=show_rooms,
            ),
            Window(ui.pane, wrap_lines=False),
            ConditionalContainer(
                VSplit([
                    Window(width=1, char="│", style="class:sep"),
                    Window(FormattedTextControl(member_list(state)), width=MEMBERS_WIDTH),
                ]),
                filter=show_members,
            ),
        ]
    )
    root = HSplit(
        [
            Window(FormattedTextControl(topic_bar(state)), height=1, style="class:topic"),
            body,
            Window(FormattedTextControl(status_line(ui)), height=1, style="class:status"),
            VSplit([
                Window(
                    FormattedTextControl(lambda: [("class:prompt", f"{state.active.name}> ")]),
                    dont_extend_width=True,
                    dont_extend_height=True,
                ),
                input_window,
            ]),
            search,
        ]
    )
    return Layout(root, focused_element=input_window)
