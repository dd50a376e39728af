"""Plain mode's text rules without sockets: what a typed line becomes, how lines look."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_server.protocol import numerics as N
from chat_server.protocol import plain as P

CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (b"hello", "hello"),
        (b"helo\x7f\x7flo", "helo"),  # DEL, as a raw terminal sends it
        (b"wor\x08rld", "world"),  # Backspace (^H)
        (b"\x7f\x7fhi", "hi"),  # erasing at the start erases nothing
        ("张三\x7f四".encode(), "张四"),  # a whole character, not a byte, is erased
        (b"up\x1b[A down\x1b[1;5B f1\x1bOP alt\x1bx", "up down f1 alt"),
        (b"a\tb", "a b"),
        (
            b"\x01ACTION forged\x01 \x02bold\x0f \x034red \x00nul \rcr",
            "ACTION forged bold 4red nul cr",
        ),
    ],
)
def test_typing_in_a_raw_terminal_is_applied(typed: bytes, meant: str) -> None:
    line = P.clean_input(typed)
    assert line == P.TypedLine(meant, valid_utf8=True)


def test_invalid_utf8_is_replaced_and_reported() -> None:
    line = P.clean_input(b"caf\xe9 au lait \xff")
    assert line.text == "caf\ufffd au lait \ufffd"
    assert not line.valid_utf8


@given(st.binary(max_size=300))
def test_no_control_character_survives_cleaning(typed: bytes) -> None:
    text = P.clean_input(typed).text
    assert not CONTROLS.search(text)
    text.encode("utf-8")  # always encodable: never broken bytes for anyone else


@given(st.text(max_size=300))
def test_every_server_line_is_one_utf8_line_ending_in_crlf(body: str) -> None:
    data = P.line(body)
    assert data.endswith(b"\r\n")
    assert b"\r" not in data[:-2] and b"\n" not in data[:-2]
    assert not CONTROLS.search(data.decode("utf-8")[:-2])


def test_text_from_others_cannot_drive_the_terminal() -> None:
    assert P.visible("\x1b[2J\x1b]0;owned\x07hi \x9b31m\x02x\x0f") == "[2J]0;ownedhi 31mx"


def test_stamped_lines_start_with_the_time_unless_turned_off() -> None:
    assert re.fullmatch(rb"\[\d\d:\d\d:\d\d\] #dev <bob> hi\r\n", P.stamped(0.0, "#dev <bob> hi"))
    assert P.stamped(0.0, "#dev <bob> hi", timestamps=False) == b"#dev <bob> hi\r\n"


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("\x01ACTION waves\x01", "waves"),
        ("\x01ACTION waves", "waves"),  # the closing \x01 is optional
        ("\x01ACTION \x01", ""),
        ("\x01VERSION\x01", None),
        ("\x01ACTIONS\x01", None),
        ("waves", None),
    ],
)
def test_ctcp_action_is_recognised(text: str, action: str | None) -> None:
    assert P.parse_action(text) == action


def test_make_action_is_what_irc_clients_send() -> None:
    assert P.make_action("waves") == "\x01ACTION waves\x01"
    assert P.parse_action(P.make_action("waves")) == "waves"


def test_a_taken_nick_at_the_prompt_asks_again() -> None:
    params = ("李四", "Nickname is already in use")
    assert P.error_text(N.ERR_NICKNAMEINUSE, params, at_prompt=True) == (
        "Nickname 李四 is taken; pick another:"
    )
    assert P.error_text(N.ERR_NICKNAMEINUSE, params, at_prompt=False) == (
        "Nickname 李四 is taken."
    )


def test_errors_say_what_to_do() -> None:
    assert P.error_text(N.ERR_BADCHANNELKEY, ("#secret", "Cannot join channel (+k)"),
                        at_prompt=False) == "#secret needs a key: /join #secret KEY"
    assert P.error(P.error_text(N.ERR_CHANOPRIVSNEEDED, ("#dev", "x"), False)) == (
        b"! Only operators of #dev can do that.\r\n"
    )


def test_an_unmapped_or_malformed_error_falls_back_to_the_hubs_text() -> None:
    assert P.error_text("499", ("a", "Something odd"), at_prompt=False) == "Something odd"
    assert P.error_text(N.ERR_USERNOTINCHANNEL, ("only one",), at_prompt=False) == "only one"


def test_counts_agree_with_their_number() -> None:
    assert P.count(1, "person", "people") == "1 person"
    assert P.count(0, "person", "people") == "0 people"
