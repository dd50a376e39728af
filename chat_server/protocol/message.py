"""IRC messages as values: parse one line, format one line.

Owns the wire grammar of the modern IRC client protocol (tags, source, command,
params, trailing) and its size limits. Sans-I/O: no sockets, no asyncio; the client
imports this module too. Must not import from the hub, sessions or transport.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chat_server.protocol.errors import ProtocolViolation

# "the tags section ... MUST NOT exceed 8191 bytes, including the leading '@' and
#  trailing space" and "the rest of the message ... MUST NOT exceed 512 bytes,
#  including the trailing CR-LF" (IRCv3 message-tags; RFC 1459 section 2.3).
MAX_TAGS_BYTES = 8191
# What a client may send: "the tag data ... MUST NOT exceed 4094 bytes" (message tags),
# the '@' and the space after it not counted.
MAX_CLIENT_TAGS_BYTES = 4094
MAX_REST_BYTES = 512
MAX_LINE_BYTES = MAX_TAGS_BYTES + MAX_REST_BYTES

# Bytes that would end a line or the string early if they ever reached the wire.
# "NUL (%x00) is not allowed within messages" and CR/LF only end one (RFC 2812 2.3.1).
_LINE_BREAKER_CHARS = "\r\n\0"
_LINE_BREAKERS = str.maketrans("", "", _LINE_BREAKER_CHARS)

# Stands in for a middle parameter that sanitising left empty: dropping it would
# shift every later parameter into the wrong position.
_EMPTY_MIDDLE = "*"

_TAG_ESCAPES = {";": r"\:", " ": r"\s", "\\": "\\\\", "\r": r"\r", "\n": r"\n"}
_TAG_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


def escape_tag_value(value: str) -> str:
    """Escape a tag value so it can never split the tag section or the line."""
    return "".join(_TAG_ESCAPES.get(ch, ch) for ch in value.replace("\0", ""))


def unescape_tag_value(raw: str) -> str:
    """Undo tag escaping; an unknown escape drops its backslash, a lone trailing one is dropped."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    chars = iter(raw)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, None)
        if nxt is not None:
            out.append(_TAG_UNESCAPES.get(nxt, nxt))
    return "".join(out)


def strip_line_breakers(text: str) -> str:
    """Remove CR, LF and NUL, which no parameter may carry onto the wire."""
    # str.translate with deletions has no fast path; the membership tests run in C.
    if "\r" in text or "\n" in text or "\0" in text:
        return text.translate(_LINE_BREAKERS)
    return text


@dataclass(frozen=True, slots=True)
class Message:
    """One IRC line. `command` is upper-cased on parse; numerics stay digit strings."""

    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: dict[str, str] = field(default_factory=dict, compare=True, hash=False)

    def param(self, index: int, default: str = "") -> str:
        return self.params[index] if index < len(self.params) else default

    def to_line(self) -> str:
        """Format without CRLF. Parameters are sanitised: a value can't inject a line."""
        return format_message(self)

    def to_bytes(self) -> bytes:
        return (format_message(self) + "\r\n").encode("utf-8", "replace")


def parse_tags(section: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in section.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        if not key:
            continue
        tags[key] = unescape_tag_value(value)
    return tags


def format_tags(tags: Mapping[str, str]) -> str:
    parts = []
    for key, value in tags.items():
        key = strip_line_breakers(key).replace(" ", "").replace(";", "").replace("=", "")
        if not key:
            continue
        parts.append(f"{key}={escape_tag_value(value)}" if value else key)
    return ";".join(parts)


def parse_line(line: str | bytes) -> Message:
    """Parse one line (CRLF optional).

    Raises ProtocolViolation when the line has no command, or carries CR, LF or NUL
    anywhere but at its end.
    """
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    line = line.rstrip("\r\n")
    if any(ch in line for ch in _LINE_BREAKER_CHARS):
        raise ProtocolViolation("CR, LF or NUL inside a line")
    tags: dict[str, str] = {}
    source: str | None = None
    rest = line.lstrip(" ")
    if rest.startswith("@"):
        section, _, rest = rest[1:].partition(" ")
        tags = parse_tags(section)
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    command, _, rest = rest.partition(" ")
    if not command:
        raise ProtocolViolation("no command in line")
    params: list[str] = []
    while rest:
        rest = rest.lstrip(" ")
        if not rest:
            break
        if rest.startswith(":"):
            params.append(rest[1:])
            break
        param, _, rest = rest.partition(" ")
        params.append(param)
    return Message(command.upper(), tuple(params), source, tags)


def format_message(msg: Message) -> str:
    """Format a message; see format_parts."""
    return format_parts(msg.tags, msg.source, msg.command, msg.params)


def format_parts(
    tags: Mapping[str, str] | None,
    source: str | None,
    command: str,
    params: Sequence[str],
) -> str:
    """Format a line from its parts; the last parameter gets a ':' when it needs one.

    The server renders from parts, without building a Message for every line it sends.

    Every part is stripped of CR, LF and NUL, and middle parameters of spaces and a
    leading ':', so that no value from one client can become a second line (or a
    shifted parameter) at another. A middle parameter left empty is sent as '*', so
    the line always has as many parameters as the message.

    Raises ValueError when the command is empty or would read as tags or a source:
    that is a bug in the caller, not something to send.
    """
    cleaned = strip_line_breakers(command).replace(" ", "")
    if not cleaned or cleaned[0] in "@:":
        raise ValueError(f"cannot format a message with command {command!r}")
    out: list[str] = []
    if tags:
        formatted = format_tags(tags)
        if formatted:
            out.append("@" + formatted)
    if source:
        source = strip_line_breakers(source).replace(" ", "")
        if source:
            out.append(":" + source)
    out.append(cleaned)
    return " ".join(out) + format_params(params)


def format_params(params: Sequence[str]) -> str:
    """The parameters as they follow a command: each after a space, the last one
    after ' :' when it needs it; '' for none. Cleaned as format_parts says."""
    if not params:
        return ""
    *middle, last = params
    out = [""]
    for p in middle:
        out.append(strip_line_breakers(p).replace(" ", "").lstrip(":") or _EMPTY_MIDDLE)
    last = strip_line_breakers(last)
    out.append(":" + last if not last or " " in last or last[0] == ":" else last)
    return " ".join(out)


def split_text(text: str, budget: int) -> list[str]:
    """Split text into pieces of at most `budget` UTF-8 bytes, never inside a character.

    Raises ValueError when the budget is smaller than a character of the text.
    """
    if budget <= 0:
        raise ValueError("budget must be positive")
    pieces: list[str] = []
    data = text.encode("utf-8")
    while len(data) > budget:
        cut = budget
        # Continuation bytes are 0b10xxxxxx: back up to the start of the character.
        while cut > 0 and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        if cut == 0:
            raise ValueError(f"a character of the text needs more than {budget} bytes")
        pieces.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    pieces.append(data.decode("utf-8"))
    return pieces
