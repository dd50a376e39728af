"""Parsing and formatting IRC lines: examples, injection attempts and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_server.protocol.errors import ProtocolViolation
from chat_server.protocol.message import (
    Message,
    escape_tag_value,
    format_message,
    parse_line,
    split_text,
    strip_line_breakers,
    unescape_tag_value,
)

# --- examples ---------------------------------------------------------------------------


def test_parse_full_line() -> None:
    msg = parse_line(b"@time=2024-01-01T00:00:00Z;+draft/x :nick!u@h privmsg #room :hi there\r\n")
    assert msg == Message(
        "PRIVMSG",
        ("#room", "hi there"),
        "nick!u@h",
        {"time": "2024-01-01T00:00:00Z", "+draft/x": ""},
    )


@pytest.mark.parametrize("line", ["", "   ", "\r\n", ":source", ":source   ", "@a=b", "@a=b :s"])
def test_line_without_command_is_a_violation(line: str) -> None:
    with pytest.raises(ProtocolViolation):
        parse_line(line)


@pytest.mark.parametrize(
    "line",
    ["PRIVMSG #a :hi\0there", "PRIVMSG #a :hi\rQUIT", "PRIVMSG #a :hi\nQUIT", "NICK a\0b\r\n"],
)
def test_line_breakers_inside_a_line_are_a_violation(line: str) -> None:
    with pytest.raises(ProtocolViolation):
        parse_line(line)


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    msg = parse_line(b"PRIVMSG #a :caf\xe9\r\n")
    assert msg.params == ("#a", "caf\ufffd")


def test_param_default() -> None:
    msg = Message("KICK", ("#a", "bob"))
    assert msg.param(1) == "bob"
    assert msg.param(2) == ""
    assert msg.param(2, "no reason") == "no reason"


def test_to_bytes_is_one_crlf_terminated_line() -> None:
    assert Message("PING", ("x y",)).to_bytes() == b"PING :x y\r\n"
    assert Message("PONG", ("srv",), "srv").to_line() == ":srv PONG srv"


def test_reply_cannot_be_injected_through_the_trailing_param() -> None:
    msg = Message("PRIVMSG", ("#a", "hi\r\n:evil!e@e PRIVMSG #a :gotcha\0"), "bob!b@h")
    assert msg.to_bytes().count(b"\n") == 1
    assert parse_line(msg.to_bytes()).params == ("#a", "hi:evil!e@e PRIVMSG #a :gotcha")


def test_middle_params_cannot_grow_into_more_params() -> None:
    msg = Message("KICK", ("#a", "bob :x", ":bye", "reason"))
    assert parse_line(format_message(msg)).params == ("#a", "bob:x", "bye", "reason")


def test_empty_middle_param_keeps_its_place() -> None:
    # Dropping it would turn the reason into the nick.
    msg = Message("KICK", ("#a", "\r\n", "the reason"))
    assert format_message(msg) == "KICK #a * :the reason"


def test_empty_source_is_left_out() -> None:
    assert format_message(Message("PING", ("x",), "\r\n")) == "PING x"


@pytest.mark.parametrize("command", ["", " ", "\r\n", ":x", "@x"])
def test_unformattable_command_is_refused(command: str) -> None:
    with pytest.raises(ValueError, match="command"):
        format_message(Message(command, ("a",)))


def test_tag_keys_cannot_break_the_tag_section() -> None:
    msg = Message("TAGMSG", ("#a",), tags={"a b;c=d\n": "v", "\0": "gone"})
    assert format_message(msg) == "@abcd=v TAGMSG #a"


def test_escape_tag_value_examples() -> None:
    assert escape_tag_value("a b;c\\d\r\n\0") == r"a\sb\:c\\d\r\n"
    assert unescape_tag_value(r"a\sb\:c\\d\r\n") == "a b;c\\d\r\n"


def test_split_text_examples() -> None:
    assert split_text("", 10) == [""]
    assert split_text("abcdef", 3) == ["abc", "def"]
    assert split_text("a张三", 4) == ["a张", "三"]


@pytest.mark.parametrize(("text", "budget"), [("张", 2), ("a😀", 3), ("ab张", 2)])
def test_split_text_refuses_a_budget_smaller_than_a_character(text: str, budget: int) -> None:
    with pytest.raises(ValueError, match="needs more than"):
        split_text(text, budget)


@pytest.mark.parametrize("budget", [0, -1])
def test_split_text_refuses_a_budget_that_is_not_positive(budget: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        split_text("x", budget)


# --- properties -------------------------------------------------------------------------

COMMANDS = st.from_regex(r"[A-Za-z]{1,12}|[0-9]{3}", fullmatch=True)
# codec="utf-8" leaves out lone surrogates: no valid message can carry one.
NO_BREAKERS = st.characters(codec="utf-8", exclude_characters="\r\n\0")
# A word: one middle parameter, source or tag key as it may appear on the wire.
WORD = st.text(NO_BREAKERS, min_size=1).filter(lambda s: " " not in s)
MIDDLE = WORD.filter(lambda s: not s.startswith(":"))
TRAILING = st.text(NO_BREAKERS)
TAG_KEYS = WORD.filter(lambda s: not any(c in s for c in ";="))
TAG_VALUES = st.text(st.characters(codec="utf-8", exclude_characters="\0"))


@st.composite
def valid_messages(draw: st.DrawFn) -> Message:
    middle = draw(st.lists(MIDDLE, max_size=14))
    trailing = draw(st.lists(TRAILING, max_size=1))
    return Message(
        command=draw(COMMANDS),
        params=tuple(middle + trailing),
        source=draw(st.none() | WORD),
        tags=draw(st.dictionaries(TAG_KEYS, TAG_VALUES, max_size=5)),
    )


@settings(deadline=None)
@given(valid_messages())
def test_valid_messages_round_trip(msg: Message) -> None:
    expected = Message(msg.command.upper(), msg.params, msg.source, msg.tags)
    assert parse_line(format_message(msg)) == expected
    assert parse_line(msg.to_bytes()) == expected


# Arbitrary text, heavy on the characters that have meaning on the wire.
HOSTILE = st.text(st.sampled_from("\r\n\0 :;=@\\!*") | st.characters())


def _expected_middle(param: str) -> str:
    return strip_line_breakers(param).replace(" ", "").lstrip(":") or "*"


@settings(deadline=None)
@given(
    command=COMMANDS,
    params=st.lists(HOSTILE, max_size=16),
    source=st.none() | HOSTILE,
    tags=st.dictionaries(HOSTILE, HOSTILE, max_size=5),
)
def test_hostile_values_never_inject_a_line_or_shift_params(
    command: str, params: list[str], source: str | None, tags: dict[str, str]
) -> None:
    msg = Message(command, tuple(params), source, tags)
    line = format_message(msg)
    assert not any(c in line for c in "\r\n\0")
    wire = msg.to_bytes()
    assert wire.endswith(b"\r\n")
    assert not any(b in wire[:-2] for b in b"\r\n\0")

    back = parse_line(line)
    assert back.command == command.upper()
    assert len(back.params) == len(params)
    if params:
        assert back.params[:-1] == tuple(_expected_middle(p) for p in params[:-1])
        assert back.params[-1] == strip_line_breakers(params[-1])
    clean_source = strip_line_breakers(source or "").replace(" ", "")
    assert back.source == (clean_source or None)
    expected_tags: dict[str, str] = {}
    for key, value in tags.items():
        clean_key = "".join(c for c in key if c not in "\r\n\0 ;=")
        if clean_key:
            expected_tags[clean_key] = value.replace("\0", "")
    assert back.tags == expected_tags


@given(TAG_VALUES)
def test_tag_values_round_trip(value: str) -> None:
    escaped = escape_tag_value(value)
    assert not any(c in escaped for c in " ;\r\n\0")
    assert unescape_tag_value(escaped) == value


@given(st.text())
def test_escape_drops_nul_only(value: str) -> None:
    assert unescape_tag_value(escape_tag_value(value)) == value.replace("\0", "")


@settings(deadline=None)
@given(st.text(), st.integers(min_value=4, max_value=600))
def test_split_text_pieces_fit_and_join_back(text: str, budget: int) -> None:
    pieces = split_text(text, budget)
    encoded = [p.encode("utf-8") for p in pieces]
    assert all(len(b) <= budget for b in encoded)
    assert "".join(pieces) == text
    # Each piece is a whole-character slice of the original bytes, so it decodes alone.
    assert b"".join(encoded) == text.encode("utf-8")
    assert all(b.decode("utf-8") == p for b, p in zip(encoded, pieces, strict=True))
    # Greedy: a piece ends only where the next character would not have fitted.
    for piece, following in zip(encoded, pieces[1:], strict=False):
        assert len(piece) + len(following[0].encode("utf-8")) > budget
