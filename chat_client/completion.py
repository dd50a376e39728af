"""Tab completion of nicks, /commands and room names, cycling on repeated Tab.

Owns the choice and order of candidates: recent speakers first, then other members;
`nick: ` at the start of a line. Pure: works on (text, cursor) pairs, so both front ends
and the tests use it directly. Must not import prompt_toolkit.
"""

from __future__ import annotations

from collections.abc import Sequence

from chat_client.state import BufferKind, ClientState
from chat_server.protocol.names import fold


def candidates(state: ClientState, commands: Sequence[str], word: str, at_start: bool
               ) -> list[str]:
    """What `word` may complete to, best first (without the trailing separator)."""
    key = fold(word)
    if at_start and word.startswith("/"):
        return [f"/{c}" for c in sorted(commands) if fold(c).startswith(key[1:])]
    if word[:1] in ("#", "&"):
        return [b.name for b in state.buffers
                if b.kind is BufferKind.ROOM and b.key.startswith(key)]
    buf = state.active
    me = fold(state.nick)
    seen: dict[str, str] = {}
    for folded, nick in reversed(buf.speakers.items()):
        seen.setdefault(folded, nick)
    for folded in sorted(buf.members):
        seen.setdefault(folded, buf.members[folded])
    if buf.kind is BufferKind.QUERY:
        seen.setdefault(buf.key, buf.name)
    return [nick for folded, nick in seen.items() if folded != me and folded.startswith(key)]


class TabCompleter:
    """Completes the word before the cursor; pressing Tab again offers the next match."""

    def __init__(self, state: ClientState, commands: Sequence[str]) -> None:
        self.state = state
        self.commands = commands
        self._last: tuple[str, int] | None = None
        self._matches: list[str] = []
        self._index = 0
        self._start = 0
        self._tail = ""

    def complete(self, text: str, cursor: int) -> tuple[str, int] | None:
        """The new (text, cursor), or None when nothing matches."""
        if self._last == (text, cursor) and self._matches:
            self._index = (self._index + 1) % len(self._matches)
        else:
            start = cursor
            while start > 0 and not text[start - 1].isspace():
                start -= 1
            word = text[start:cursor]
            matches = candidates(self.state, self.commands, word, at_start=start == 0)
            if not matches:
                self._last = None
                return None
            self._matches, self._index, self._start = matches, 0, start
            self._tail = text[cursor:]
        match = self._matches[self._index]
        if match.startswith("/") or match[:1] in ("#", "&"):
            suffix = " "
        else:
            suffix = ": " if self._start == 0 else " "
        head = text[: self._start] + match + suffix
        new_text = head + self._tail
        self._last = (new_text, len(head))
        return self._last
