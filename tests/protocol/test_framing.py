"""Line framing: line ends, split reads, and the bound on what an overlong line costs."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from chat_server.protocol.framing import LineFramer, Overlong
from chat_server.protocol.message import MAX_LINE_BYTES


def test_lf_and_crlf_lines() -> None:
    framer = LineFramer(100)
    assert framer.feed(b"NICK a\nUSER u 0 * :U\r\nPING x\n") == [
        b"NICK a",
        b"USER u 0 * :U",
        b"PING x",
    ]
    assert framer.buffered == 0


def test_only_one_cr_is_a_line_end() -> None:
    assert LineFramer(100).feed(b"a\r\r\nb\rc\n") == [b"a\r", b"b\rc"]


def test_empty_lines_come_through_as_empty() -> None:
    assert LineFramer(100).feed(b"\n\r\nA\n\n") == [b"", b"", b"A", b""]


def test_line_split_across_feeds() -> None:
    framer = LineFramer(100)
    assert framer.feed(b"PRIV") == []
    assert framer.buffered == 4
    assert framer.feed(b"MSG #a :h") == []
    assert framer.feed(b"i\r") == []
    assert framer.feed(b"\nPI") == [b"PRIVMSG #a :hi"]
    assert framer.feed(b"NG\n") == [b"PING"]
    assert framer.buffered == 0


def test_limit_counts_the_bytes_before_lf() -> None:
    framer = LineFramer(10)
    assert framer.feed(b"x" * 10 + b"\n") == [b"x" * 10]
    assert framer.feed(b"x" * 9 + b"\r\n") == [b"x" * 9]
    assert framer.feed(b"x" * 11 + b"\nok\n") == [Overlong(10), b"ok"]
    assert framer.feed(b"x" * 10 + b"\r\nok\n") == [Overlong(10), b"ok"]


def test_limit_holds_across_feeds() -> None:
    framer = LineFramer(10)
    assert framer.feed(b"x" * 6) == []
    assert framer.feed(b"x" * 4) == []
    assert framer.buffered == 10
    assert framer.feed(b"\n") == [b"x" * 10]
    assert framer.feed(b"x" * 6) == []
    assert framer.feed(b"x" * 5) == [Overlong(10)]
    assert framer.buffered == 0
    assert framer.feed(b"x" * 6) == []
    assert framer.feed(b"x\nnext\n") == [b"next"]


def test_ten_megabytes_without_newline_cost_one_line_of_memory() -> None:
    framer = LineFramer(MAX_LINE_BYTES)
    chunk = b"A" * 65536
    out: list[bytes | Overlong] = []
    for _ in range(10 * 1024 * 1024 // len(chunk)):
        out += framer.feed(chunk)
        assert framer.buffered <= MAX_LINE_BYTES
    assert out == [Overlong(MAX_LINE_BYTES)]
    assert framer.feed(b"tail of the long line\r\nPRIVMSG #a :still here\r\n") == [
        b"PRIVMSG #a :still here"
    ]
    assert framer.buffered == 0


def test_overlong_then_partial_line() -> None:
    framer = LineFramer(10)
    assert framer.feed(b"x" * 50 + b"\nPIN") == [Overlong(10)]
    assert framer.feed(b"G\n") == [b"PING"]


LINES = st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=20)


@settings(deadline=None)
@given(LINES, st.lists(st.integers(min_value=0, max_value=1000), max_size=10), st.booleans())
def test_any_chunking_gives_the_same_lines(lines: list[bytes], cuts: list[int], crlf: bool) -> None:
    end = b"\r\n" if crlf else b"\n"
    stream = b"".join(line + end for line in lines)
    bounds = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    framer = LineFramer(41)  # the longest line plus its CR
    out: list[bytes | Overlong] = []
    for lo, hi in itertools.pairwise(bounds):
        out += framer.feed(stream[lo:hi])
    # One CR before the LF is part of the line end, so with bare LF ends a line's own
    # trailing CR is taken for one.
    assert out == (lines if crlf else [line.removesuffix(b"\r") for line in lines])
    assert framer.buffered == 0
