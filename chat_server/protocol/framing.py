"""Split a byte stream into lines with a hard bound on what is buffered.

Sans-I/O: bytes in, lines out. A line longer than the limit is never buffered whole:
the framer reports it once as overlong and drops bytes up to its end, so a 10 MB line
costs at most `max_line` bytes of memory. Must not import beyond the protocol package.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Overlong:
    """A line that passed the limit; its bytes were dropped, the connection may go on."""

    max_bytes: int


class LineFramer:
    """Accepts LF or CRLF line ends (clients differ); yields lines without them.

    `max_line` bounds the bytes before the LF, a CR included, so `buffered` never
    exceeds it.
    """

    __slots__ = ("_buf", "_discarding", "max_line")

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        # The start of a line still to come, or None between lines: most reads end on
        # a line end, and an idle connection should not hold an empty buffer.
        self._buf: bytearray | None = None
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes | Overlong]:
        """Take what arrived; return complete lines (bytes) and Overlong markers, in order."""
        out: list[bytes | Overlong] = []
        buf = self._buf
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            if self._discarding:
                self._discarding = False
            elif (len(buf) if buf else 0) + (nl - start) > self.max_line:
                out.append(Overlong(self.max_line))
            else:
                if buf:
                    buf += data[start:nl]
                    line = bytes(buf)
                else:
                    line = data[start:nl]
                out.append(line[:-1] if line.endswith(b"\r") else line)
            buf = None
            start = nl + 1
        if start < len(data) and not self._discarding:
            # Decide before copying, so a huge chunk is never appended only to be dropped.
            if (len(buf) if buf else 0) + len(data) - start > self.max_line:
                buf = None
                self._discarding = True
                out.append(Overlong(self.max_line))
            elif buf is None:
                buf = bytearray(data[start:])
            else:
                buf += data[start:]
        self._buf = buf
        return out

    @property
    def buffered(self) -> int:
        return len(self._buf) if self._buf else 0
