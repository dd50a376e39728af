"""Nickname and room-name validity, case folding and ban-mask matching."""

from __future__ import annotations

import pytest

from chat_server.protocol.names import (
    CHANNELLEN,
    NICKLEN,
    USERLEN,
    fold,
    is_valid_nick,
    is_valid_room,
    is_valid_user,
    mask_matches,
    normalize_mask,
    sanitize_user,
)


@pytest.mark.parametrize("nick", ["张三", "bob", "Ünïcødé", "a-b_c[d]{e}|f^g`h", "a1", "Zoë"])
def test_valid_nicks(nick: str) -> None:
    assert is_valid_nick(nick)


@pytest.mark.parametrize("room", ["#讨论", "#lobby", "#a", "#Ünïcødé-room", "##"])
def test_valid_rooms(room: str) -> None:
    assert is_valid_room(room)


# Spaces, controls, bidi override, characters with protocol meaning, and look-alikes
# that NFKC folds into those characters.
BAD_ANYWHERE = [
    " ", "\t", "\x01", "\x07", "\x7f", "\u202e", "\u200b", "\u00a0", "\u2028", "\ue000",
    ",", ":", "*", "?", "!", "@",
    "\uff01",  # FULLWIDTH EXCLAMATION MARK -> "!"
    "\uff20",  # FULLWIDTH COMMERCIAL AT -> "@"
    "\ufe55",  # SMALL COLON -> ":"
    "\u3000",  # IDEOGRAPHIC SPACE
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_ANYWHERE)
def test_bad_characters_refused_everywhere(bad: str) -> None:
    assert not is_valid_nick(f"bo{bad}b")
    assert not is_valid_nick(f"bob{bad}")
    assert not is_valid_room(f"#ro{bad}om")
    assert not is_valid_user(f"us{bad}er")


@pytest.mark.parametrize(
    "nick",
    [
        "#bob", "&bob", "+bob", "%bob", "~bob", "-bob", "$bob", "0bob", "9",
        "\uff03bob",  # FULLWIDTH NUMBER SIGN -> "#"
        "\uff11bob",  # FULLWIDTH DIGIT ONE -> "1"
        "\u2460bob",  # CIRCLED DIGIT ONE -> "1"
    ],
)  # fmt: skip
def test_nick_may_not_start_like_a_room_prefix_or_number(nick: str) -> None:
    assert not is_valid_nick(nick)
    # The same characters are fine after the first one.
    assert is_valid_nick("b" + nick)


@pytest.mark.parametrize("room", ["", "#", "lobby", "&lobby", "讨论"])
def test_room_needs_prefix_and_a_name(room: str) -> None:
    assert not is_valid_room(room)


def test_lengths_are_bounded() -> None:
    assert is_valid_nick("n" * NICKLEN)
    assert not is_valid_nick("n" * (NICKLEN + 1))
    assert not is_valid_nick("")
    assert is_valid_nick("张" * NICKLEN)
    assert is_valid_room("#" + "r" * (CHANNELLEN - 1))
    assert not is_valid_room("#" + "r" * CHANNELLEN)
    assert is_valid_user("u" * USERLEN)
    assert not is_valid_user("u" * (USERLEN + 1))
    assert not is_valid_user("")
    assert is_valid_nick("n" * 40, max_len=40)


@pytest.mark.parametrize(
    "same",
    [("ＢＯＢ", "Bob", "bob", "BOB"), ("Straße", "STRASSE", "strasse"), ("#Lobby", "#LOBBY")],
)
def test_fold_makes_equal_names_equal(same: tuple[str, ...]) -> None:
    assert len({fold(name) for name in same}) == 1


@pytest.mark.parametrize(("a", "b"), [("bob", "bobby"), ("张三", "张四"), ("#a", "#b")])
def test_fold_keeps_different_names_apart(a: str, b: str) -> None:
    assert fold(a) != fold(b)


def test_fold_is_idempotent() -> None:
    for name in ["ＢＯＢ", "Straße", "Ünïcødé", "ﬁx", "#讨论"]:
        assert fold(fold(name)) == fold(name)


def test_sanitize_user() -> None:
    assert sanitize_user("~j o\x01h\u202en!@") == "~john"
    assert sanitize_user("u" * 50) == "u" * USERLEN
    assert sanitize_user(" \x00 ") == "user"
    assert is_valid_user(sanitize_user("any\uff01thing \r\n goes"))


@pytest.mark.parametrize(
    ("mask", "text", "matches"),
    [
        ("bob!*@*", "bob!b@example.com", True),
        ("bob!*@*", "bobby!b@example.com", False),
        ("*!*@*.example.com", "alice!a@host.example.com", True),
        ("*!*@*.example.com", "alice!a@example.com", False),
        ("b?b!*@*", "bab!x@y", True),
        ("b?b!*@*", "bb!x@y", False),
        ("*", "", True),
        ("", "", True),
        ("", "a", False),
        ("**", "anything", True),
        ("a*", "a*b", True),
        ("a*c", "a*b", False),
        ("*!*@evil", "nick!user@evil.host", False),
    ],
)
def test_mask_matches(mask: str, text: str, matches: bool) -> None:
    assert mask_matches(mask, text) is matches


def test_mask_matches_case_insensitively() -> None:
    assert mask_matches("BOB!*@*.EXAMPLE.COM", "bob!b@host.example.com")
    assert mask_matches("*!*@host", "ＢＯＢ!b@HOST")
    assert mask_matches("straße!*@*", "STRASSE!u@h")
    assert mask_matches("张三!*@*", "张三!u@h")


def test_hostile_mask_is_answered() -> None:
    # A naive recursive glob takes exponential time here; the test would time out.
    mask = "*a*a*a*a*a*a*a*a*a*b"
    assert not mask_matches(mask, "a" * 5000)
    assert mask_matches(mask, "a" * 5000 + "b")
    assert not mask_matches("?" * 5001, "a" * 5000)


@pytest.mark.parametrize(
    ("mask", "full"),
    [
        ("bob", "bob!*@*"),
        ("bob@host", "*!bob@host"),
        ("bob!user", "bob!user@*"),
        ("bob!user@host", "bob!user@host"),
        ("*!*@*.example.com", "*!*@*.example.com"),
        ("bob!", "bob!*@*"),
        ("@host", "*!*@host"),
        ("", "*!*@*"),
    ],
)
def test_normalize_mask(mask: str, full: str) -> None:
    assert normalize_mask(mask) == full
    assert normalize_mask(full) == full
