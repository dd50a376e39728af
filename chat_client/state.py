"""Everything the client knows and shows, as one object with no UI in it.

Owns the buffers (server, rooms, private conversations), their bounded scrollback,
unread counts, mention marks, the unread marker, scroll positions, members, and the
connection status line's facts, and where history goes: merged by time, once per
msgid, above a scrolled view without moving it. It applies `events` and tells
listeners that something changed; the full-screen layout and the simple transcript
both read it. Must not import prompt_toolkit, asyncio, sockets or the protocol object.
"""

from __future__ import annotations

import bisect
import enum
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chat_client import events as ev
from chat_server.protocol.names import fold

DEFAULT_SCROLLBACK = 2000
# How many recent speakers per buffer completion remembers, most recent first.
SPEAKER_MEMORY = 50
SERVER_BUFFER = "*server*"


class ConnState(enum.Enum):
    """Where the connection stands, as the status line shows it."""

    DISCONNECTED = "disconnected"  # not connected and not trying (before start, after /quit)
    CONNECTING = "connecting"  # opening the socket or registering
    CONNECTED = "connected"  # registered with the server
    RECONNECTING = "reconnecting"  # lost the link; waiting out the backoff before retrying


class BufferKind(enum.Enum):
    """What a buffer holds, which decides how it is listed and what /part means."""

    SERVER = "server"  # server notices, MOTD, errors, /list output
    ROOM = "room"  # a channel we joined
    QUERY = "query"  # a private conversation with one nick


class LineKind(enum.Enum):
    """What a line in a buffer is, which decides its look and whether it is noise."""

    MESSAGE = "message"  # someone said something
    ACTION = "action"  # /me
    NOTICE = "notice"  # a NOTICE
    JOIN = "join"  # someone joined (noise)
    PART = "part"  # someone left (noise)
    QUIT = "quit"  # someone quit (noise)
    NICK = "nick"  # someone changed nick (noise)
    TOPIC = "topic"  # the topic changed
    INFO = "info"  # client or server information
    ERROR = "error"  # something failed


NOISE = frozenset({LineKind.JOIN, LineKind.PART, LineKind.QUIT, LineKind.NICK})
CHAT = frozenset({LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE})


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a buffer. `seq` increases by one per line added to its buffer.

    Lines are kept in time order, so history fetched later can sit above lines that
    arrived before it: `seq` says when a line arrived, its place says when it was said.
    """

    seq: int
    time: datetime
    kind: LineKind
    nick: str
    text: str
    own: bool = False
    mention: bool = False
    msgid: str | None = None


_LINE_KINDS = {
    ev.MessageKind.PRIVMSG: LineKind.MESSAGE,
    ev.MessageKind.ACTION: LineKind.ACTION,
    ev.MessageKind.NOTICE: LineKind.NOTICE,
}


def nick_colour_index(nick: str, palette_size: int) -> int:
    """A colour slot for a nick that is the same across runs and machines.

    Python's hash() of a str is salted per process, so it would recolour everyone at
    every start; CRC-32 of the folded nick is stable and cheap.
    """
    return zlib.crc32(fold(nick).encode("utf-8")) % palette_size


@dataclass(slots=True, eq=False)
class Buffer:
    """A room, a private conversation or the server buffer, with its scrollback."""

    name: str
    kind: BufferKind
    scrollback: int = DEFAULT_SCROLLBACK
    lines: deque[Line] = field(init=False)
    next_seq: int = 0
    unread: int = 0
    mentions: int = 0
    # The earliest unread line while the user is elsewhere; the marker goes above it.
    first_unread: Line | None = None
    # The line the "unread" marker sits above while the user is back in this buffer.
    marker_seq: int | None = None
    # Lines (of any kind) hidden below the view; 0 means the view follows new lines.
    scroll: int = 0
    new_below: int = 0
    topic: str = ""
    hide_joins: bool = False
    joined: bool = False
    members: dict[str, str] = field(default_factory=dict)
    away: set[str] = field(default_factory=set)
    speakers: dict[str, str] = field(default_factory=dict)
    names_requested: bool = False
    # msgids of the lines kept, so a line seen live and again in history shows once.
    msgids: set[str] = field(default_factory=set)
    # The server said there is nothing older than the top line: stop asking.
    history_complete: bool = False
    # A page of older history has been asked for and not yet arrived.
    loading_older: bool = False

    def __post_init__(self) -> None:
        self.lines = deque(maxlen=max(1, self.scrollback))

    @property
    def key(self) -> str:
        return fold(self.name)

    def visible(self, line: Line) -> bool:
        return not (self.hide_joins and line.kind in NOISE)

    def iter_back(self) -> Iterator[Line]:
        """Visible lines from the bottom of the view upwards (newest first).

        Walks only as far as the caller reads, so rendering a screenful costs the
        same with 100 lines of scrollback as with 100,000.
        """
        start = len(self.lines) - 1 - min(self.scroll, len(self.lines))
        for i in range(start, -1, -1):
            line = self.lines[i]
            if self.visible(line):
                yield line

    def lines_above_view(self) -> int:
        """How many lines lie above the bottom line of the view."""
        return max(len(self.lines) - 1 - self.scroll, 0)

    def oldest_ref(self) -> tuple[str | None, datetime] | None:
        """Where older history starts: the top line with a msgid, else the top line."""
        for line in self.lines:
            if line.msgid:
                return line.msgid, line.time
        return (None, self.lines[0].time) if self.lines else None

    def clear(self) -> None:
        """Forget the scrollback (and what history it held)."""
        self.lines.clear()
        self.msgids.clear()
        self.scroll = self.new_below = 0
        self.marker_seq = None
        self.first_unread = None
        self.history_complete = False

    def add_member(self, nick: str) -> None:
        self.members[fold(nick)] = nick

    def remove_member(self, nick: str) -> bool:
        self.away.discard(fold(nick))
        return self.members.pop(fold(nick), None) is not None

    def spoke(self, nick: str) -> None:
        key = fold(nick)
        self.speakers.pop(key, None)
        self.speakers[key] = nick
        if len(self.speakers) > SPEAKER_MEMORY:
            del self.speakers[next(iter(self.speakers))]


def _line_time(line: Line) -> datetime:
    return line.time


Listener = Callable[[], None]
LineListener = Callable[[Buffer, Line], None]


class ClientState:
    """The one state object: the UI reads it at render time and calls its methods."""

    def __init__(
        self,
        nick: str,
        server: str = "",
        *,
        scrollback: int = DEFAULT_SCROLLBACK,
        hide_joins: frozenset[str] = frozenset(),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.nick = nick
        self.server = server
        self.scrollback = scrollback
        self.hide_joins = {fold(r) for r in hide_joins}
        self._now = now
        self.conn = ConnState.DISCONNECTED
        self.conn_detail = ""
        self.lag: float | None = None
        self.account: str | None = None  # the account we are logged in to
        self.away = False
        self.show_members = True
        self.status = ""  # a transient hint for the status line (paste confirmation, ...)
        self.ignores: set[str] = set()
        self.buffers: list[Buffer] = [Buffer(SERVER_BUFFER, BufferKind.SERVER, scrollback)]
        self.active_index = 0
        self._mention_re: re.Pattern[str] | None = None
        self.on_change: list[Listener] = []
        self.on_line: list[LineListener] = []
        self.on_alert: list[Listener] = []

    # ----------------------------------------------------------------- notifying

    def changed(self) -> None:
        for listener in self.on_change:
            listener()

    # ----------------------------------------------------------------- buffers

    @property
    def active(self) -> Buffer:
        return self.buffers[self.active_index]

    @property
    def server_buffer(self) -> Buffer:
        return self.buffers[0]

    def find(self, name: str) -> Buffer | None:
        key = fold(name)
        for buf in self.buffers:
            if buf.key == key:
                return buf
        return None

    def open(self, name: str, kind: BufferKind) -> Buffer:
        """The buffer called `name`, created at the end of the list when missing."""
        buf = self.find(name)
        if buf is None:
            buf = Buffer(name, kind, self.scrollback)
            buf.hide_joins = buf.key in self.hide_joins
            self.buffers.append(buf)
        return buf

    def close(self, buf: Buffer) -> None:
        if buf.kind is BufferKind.SERVER or buf not in self.buffers:
            return
        active = self.active
        self.buffers.remove(buf)
        if active is buf:
            self.active_index = min(self.active_index, len(self.buffers) - 1)
            self._arrive(self.active)
        else:
            self.active_index = self.buffers.index(active)
        self.changed()

    def rooms(self) -> list[str]:
        """Rooms to (re)join: every room buffer still open."""
        return [b.name for b in self.buffers if b.kind is BufferKind.ROOM]

    def switch_to(self, index: int) -> None:
        if not 0 <= index < len(self.buffers) or index == self.active_index:
            return
        leaving = self.active
        leaving.marker_seq = None
        self.active_index = index
        self._arrive(self.active)
        self.status = ""
        self.changed()

    def switch_to_buffer(self, buf: Buffer) -> None:
        if buf in self.buffers:
            self.switch_to(self.buffers.index(buf))

    def _arrive(self, buf: Buffer) -> None:
        first = buf.first_unread
        buf.marker_seq = first.seq if buf.unread and first is not None else None
        buf.first_unread = None
        buf.unread = 0
        buf.mentions = 0

    def next_buffer(self, step: int = 1) -> None:
        self.switch_to((self.active_index + step) % len(self.buffers))

    def next_activity(self) -> None:
        """Go to the next buffer with a mention, else the next with unread messages."""
        order = [
            (self.active_index + i) % len(self.buffers) for i in range(1, len(self.buffers))
        ]
        for i in [*(i for i in order if self.buffers[i].mentions),
                  *(i for i in order if self.buffers[i].unread)][:1]:
            self.switch_to(i)

    # ----------------------------------------------------------------- scrolling

    def scroll(self, visible_lines: int, limit: int | None = None) -> None:
        """Scroll the active buffer by this many visible lines (positive = back in time).

        `limit` is how far back the screen can show without blank rows above the top
        line (the UI knows, from the pane's size).
        """
        buf = self.active
        step = 1 if visible_lines > 0 else -1
        remaining = abs(visible_lines)
        pos = buf.scroll
        while remaining and 0 <= pos + step < len(buf.lines):
            pos += step
            if buf.visible(buf.lines[len(buf.lines) - 1 - pos]):
                remaining -= 1
        if step < 0 and remaining:
            pos = 0
        if step > 0 and limit is not None:
            pos = min(pos, max(limit, 0))
        buf.scroll = pos
        if pos == 0:
            buf.new_below = 0
        self.changed()

    # ----------------------------------------------------------------- lines

    def add_line(
        self,
        buf: Buffer,
        kind: LineKind,
        text: str,
        nick: str = "",
        *,
        time: datetime | None = None,
        own: bool = False,
        counts: bool = True,
        msgid: str | None = None,
    ) -> Line:
        """Append a line, keeping unread counts, mentions and a scrolled view right."""
        line = self._new_line(buf, kind, text, nick, time or self._now(), own, msgid)
        self._place(buf, len(buf.lines), line, counts=counts, alerts=counts)
        return line

    def _new_line(self, buf: Buffer, kind: LineKind, text: str, nick: str, time: datetime,
                  own: bool, msgid: str | None) -> Line:
        mention = kind in CHAT and not own and bool(nick) and self.mentions_me(text)
        line = Line(buf.next_seq, time, kind, nick, text, own, mention, msgid)
        buf.next_seq += 1
        return line

    def _place(self, buf: Buffer, index: int, line: Line, *, counts: bool, alerts: bool
               ) -> int | None:
        """Put `line` at `index`; return where it went (None: no room that far back)."""
        if len(buf.lines) == buf.lines.maxlen:
            if index == 0:
                return None
            self._evict(buf)
            index -= 1
        appended = index == len(buf.lines)
        buf.lines.insert(index, line)
        if line.msgid:
            buf.msgids.add(line.msgid)
        # The view keeps its bottom line: a line above it changes nothing on screen
        # but what fills the top; a line below it is one more hidden below.
        if buf.scroll and index > len(buf.lines) - 2 - buf.scroll:
            buf.scroll = min(buf.scroll + 1, len(buf.lines) - 1)
            if buf.visible(line):
                buf.new_below += 1
        news = counts and line.kind in CHAT and not line.own
        for_me = news and (
            line.mention
            or (buf.kind is BufferKind.QUERY and line.kind is not LineKind.NOTICE)
        )
        alert = for_me and alerts
        if buf is not self.active and news:
            buf.unread += 1
            if for_me:
                buf.mentions += 1
            first = buf.first_unread
            if first is None or (not appended and line.time < first.time):
                buf.first_unread = line
        if line.nick and line.kind in CHAT and appended:
            buf.spoke(line.nick)
        for listener in self.on_line:
            listener(buf, line)
        if alert:
            for notify in self.on_alert:
                notify()
        return index

    def _evict(self, buf: Buffer) -> None:
        """Drop the oldest line to make room; the view goes no further back than the top."""
        old = buf.lines.popleft()
        if old.msgid:
            buf.msgids.discard(old.msgid)
        if buf.first_unread is old:
            buf.first_unread = buf.lines[0] if buf.lines else None
        buf.history_complete = False
        buf.scroll = min(buf.scroll, max(len(buf.lines) - 1, 0))

    def info(self, text: str, buf: Buffer | None = None, *, error: bool = False) -> None:
        """A line from the client itself (command output, errors) in a buffer."""
        self.add_line(buf or self.active, LineKind.ERROR if error else LineKind.INFO, text)
        self.changed()

    def mentions_me(self, text: str) -> bool:
        if self._mention_re is None:
            self._mention_re = re.compile(
                rf"(?<![\w]){re.escape(self.nick)}(?![\w])", re.IGNORECASE
            )
        return self._mention_re.search(text) is not None

    def set_nick(self, nick: str) -> None:
        self.nick = nick
        self._mention_re = None

    # ----------------------------------------------------------------- connection

    def set_connection(self, conn: ConnState, detail: str = "") -> None:
        if conn is not ConnState.CONNECTED:
            self.lag = None
        if conn in (ConnState.RECONNECTING, ConnState.DISCONNECTED):
            self.account = None  # a new connection logs in again, or not
        if conn in (ConnState.RECONNECTING, ConnState.DISCONNECTED):
            for buf in self.buffers:
                buf.joined = False
                buf.members.clear()
                buf.loading_older = False  # a request dies with its connection
        if conn is ConnState.RECONNECTING and self.conn is not ConnState.RECONNECTING:
            lost = "Disconnected" if self.conn is ConnState.CONNECTED else "Could not connect"
            self.add_line(self.server_buffer, LineKind.ERROR, f"{lost}: {detail}")
        self.conn = conn
        self.conn_detail = detail
        self.changed()

    # ----------------------------------------------------------------- events

    def apply(self, event: ev.Event) -> None:
        """Apply one protocol event, then tell the listeners once."""
        handler = getattr(self, f"_on_{type(event).__name__}")
        handler(event)
        self.changed()

    def apply_all(self, events: list[ev.Event]) -> None:
        for event in events:
            getattr(self, f"_on_{type(event).__name__}")(event)
        if events:
            self.changed()

    def _on_Registered(self, e: ev.Registered) -> None:
        self.set_nick(e.nick)
        self.server = e.server or self.server
        self.conn = ConnState.CONNECTED
        self.conn_detail = ""

    def _on_CapsEnabled(self, e: ev.CapsEnabled) -> None:
        if e.caps:
            self.add_line(self.server_buffer, LineKind.INFO,
                          "Capabilities: " + " ".join(sorted(e.caps)))

    def _buffer_for(self, e: ev.ChatMessage) -> Buffer:
        if not e.private:
            return self.open(e.buffer, BufferKind.ROOM)
        buf = self.find(e.buffer)
        if buf is None and e.kind is ev.MessageKind.NOTICE:
            # A private NOTICE (services, bots) is not a conversation to open.
            return self.server_buffer
        return buf or self.open(e.buffer, BufferKind.QUERY)

    def _on_ChatMessage(self, e: ev.ChatMessage) -> None:
        if fold(e.sender) in self.ignores and not e.own:
            return
        buf = self._buffer_for(e)
        if e.msgid and e.msgid in buf.msgids:
            return
        self.add_line(buf, _LINE_KINDS[e.kind], e.text, e.sender, time=e.time, own=e.own,
                      counts=not e.history, msgid=e.msgid)

    def _on_HistoryBatch(self, e: ev.HistoryBatch) -> None:
        """Merge a page of history into its buffer by time, each msgid once.

        A page fetched on join or by paging back is context, not news; what was said
        while we were disconnected counts as unread (but rings no bell).
        """
        buf = self.find(e.target)
        if buf is None:
            return  # closed (a /part or /close) while the answer was on its way
        if e.purpose is ev.HistoryPurpose.OLDER:
            buf.loading_older = False
        if e.error:
            buf.history_complete = True
            self.add_line(buf, LineKind.ERROR, f"No history for {e.target}: {e.error}")
            return
        if not e.messages and e.purpose is not ev.HistoryPurpose.MISSED:
            buf.history_complete = True
        counts = e.purpose is ev.HistoryPurpose.MISSED
        fresh = [m for m in e.messages
                 if not (m.msgid and m.msgid in buf.msgids)
                 and not (fold(m.sender) in self.ignores and not m.own)]
        if e.purpose is ev.HistoryPurpose.OLDER:
            # Newest first, each above the last, so a full scrollback keeps the
            # newest of the page and stops at the first line that no longer fits.
            hi = len(buf.lines)
            for m in reversed(fresh):
                index = bisect.bisect_left(buf.lines, m.time, 0, hi, key=_line_time)
                placed = self._place(buf, index, self._line_of(buf, m), counts=False,
                                     alerts=False)
                if placed is None:
                    break
                hi = placed
            return
        lo = 0
        for m in fresh:
            index = bisect.bisect_right(buf.lines, m.time, lo, len(buf.lines), key=_line_time)
            placed = self._place(buf, index, self._line_of(buf, m), counts=counts,
                                 alerts=False)
            lo = 0 if placed is None else placed + 1

    def _line_of(self, buf: Buffer, m: ev.ChatMessage) -> Line:
        return self._new_line(buf, _LINE_KINDS[m.kind], m.text, m.sender, m.time, m.own,
                              m.msgid)

    def _on_Joined(self, e: ev.Joined) -> None:
        if e.own:
            existed = self.find(e.room) is not None
            room = self.open(e.room, BufferKind.ROOM)
            room.name = e.room
            room.joined = True
            if not existed:
                self.switch_to_buffer(room)
            self.add_line(room, LineKind.JOIN, f"You joined {e.room}", time=e.time)
            return
        buf = self.find(e.room)
        if buf is not None:
            buf.add_member(e.nick)
            self.add_line(buf, LineKind.JOIN, f"{e.nick} joined", e.nick, time=e.time)

    def _on_Parted(self, e: ev.Parted) -> None:
        buf = self.find(e.room)
        if buf is None:
            return
        if e.own:
            self.close(buf)
            return
        buf.remove_member(e.nick)
        reason = f" ({e.reason})" if e.reason else ""
        self.add_line(buf, LineKind.PART, f"{e.nick} left{reason}", e.nick, time=e.time)

    def _on_Kicked(self, e: ev.Kicked) -> None:
        buf = self.find(e.room)
        if buf is None:
            return
        who = "You were" if e.own else f"{e.nick} was"
        if e.own:
            buf.joined = False
            buf.members.clear()
        else:
            buf.remove_member(e.nick)
        self.add_line(buf, LineKind.ERROR, f"{who} kicked by {e.by} ({e.reason})", time=e.time)

    def _on_Quit(self, e: ev.Quit) -> None:
        key = fold(e.nick)
        reason = f" ({e.reason})" if e.reason else ""
        for buf in self.buffers:
            if buf.remove_member(e.nick) or (buf.kind is BufferKind.QUERY and buf.key == key):
                self.add_line(buf, LineKind.QUIT, f"{e.nick} quit{reason}", e.nick, time=e.time)

    def _on_NickChanged(self, e: ev.NickChanged) -> None:
        if e.own:
            self.set_nick(e.new)
        for buf in self.buffers:
            renamed = buf.kind is BufferKind.QUERY and buf.key == fold(e.old)
            if renamed:
                buf.name = e.new
            if buf.remove_member(e.old) or renamed or (e.own and buf.joined):
                if buf.kind is BufferKind.ROOM:
                    buf.add_member(e.new)
                if fold(e.old) in buf.speakers:
                    del buf.speakers[fold(e.old)]
                    buf.spoke(e.new)
                self.add_line(buf, LineKind.NICK, f"{e.old} is now known as {e.new}",
                              e.new, time=e.time)

    def _on_TopicChanged(self, e: ev.TopicChanged) -> None:
        buf = self.open(e.room, BufferKind.ROOM)
        buf.topic = e.topic
        text = f"{e.by} set the topic: {e.topic}" if e.by else f"Topic: {e.topic}"
        self.add_line(buf, LineKind.TOPIC, text, e.by or "", time=e.time)

    def _on_Names(self, e: ev.Names) -> None:
        buf = self.find(e.room)
        if buf is None:
            return
        buf.members = {fold(n): n for n in e.nicks}
        if buf.names_requested:
            buf.names_requested = False
            names = ", ".join(sorted(e.nicks, key=fold))
            self.add_line(buf, LineKind.INFO, f"Members ({len(e.nicks)}): {names}")

    def _on_AwayChanged(self, e: ev.AwayChanged) -> None:
        if e.own:
            self.away = e.message is not None
            self.add_line(self.active, LineKind.INFO,
                          "You are marked as away" if self.away else "You are back")
            return
        for buf in self.buffers:
            if fold(e.nick) in buf.members:
                if e.message is None:
                    buf.away.discard(fold(e.nick))
                else:
                    buf.away.add(fold(e.nick))

    def _on_ListEntry(self, e: ev.ListEntry) -> None:
        self.add_line(self.server_buffer, LineKind.INFO, f"{e.room} ({e.users}) {e.topic}")

    def _on_ServerText(self, e: ev.ServerText) -> None:
        buf = self.find(e.buffer) if e.buffer else None
        if buf is None and e.error:
            # An error answers something the user just did, so show it where they are.
            buf = self.active
        self.add_line(buf or self.server_buffer,
                      LineKind.ERROR if e.error else LineKind.INFO, e.text)

    def _on_AccountChanged(self, e: ev.AccountChanged) -> None:
        """Shown where the user is looking: a login is something they asked for."""
        self.account = e.account
        self.add_line(self.active, LineKind.INFO, e.text)

    def _on_LoginHint(self, e: ev.LoginHint) -> None:
        self.add_line(self.active, LineKind.INFO,
                      f"{e.nick} is a registered nickname: if it is yours, type "
                      "/login PASSWORD to log in; if not, /nick another one.")

    def _on_LagMeasured(self, e: ev.LagMeasured) -> None:
        self.lag = e.seconds
