"""Nicknames and room names: the one place that says what is valid and what is equal.

Names are Unicode (UTF-8 on the wire). Two names are the same when their folded forms
are equal; the folded form is the only key any table may use. Must not import anything
from roomchat outside the protocol package.
"""

from __future__ import annotations

import unicodedata

# Advertised in ISUPPORT; lengths count characters, not bytes.
NICKLEN = 30
CHANNELLEN = 64
TOPICLEN = 390
KICKLEN = 255
AWAYLEN = 200
USERLEN = 20
CHANTYPES = "#"
# "rfc8265" is the PRECIS mapping: Unicode-aware, like our fold below.
CASEMAPPING = "rfc8265"

# Characters with meaning in the protocol (target lists, masks, prefixes, parameters).
_FORBIDDEN_ANYWHERE = frozenset(",:*?!@ ")
# A nick may not start like a channel, a membership prefix or a number.
_FORBIDDEN_NICK_START = frozenset("#&+%~-$0123456789")


def fold(name: str) -> str:
    """The canonical form for comparing names: NFKC, then full Unicode case folding."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def _has_bad_char(name: str) -> bool:
    for ch in name:
        if ch in _FORBIDDEN_ANYWHERE:
            return True
        # C*: control, format (bidi overrides), surrogates, private use, unassigned;
        # Z*: every kind of space and line/paragraph separator.
        if unicodedata.category(ch)[0] in "CZ":
            return True
    return False


def is_valid_nick(nick: str, max_len: int = NICKLEN) -> bool:
    return (
        0 < len(nick) <= max_len
        and nick[0] not in _FORBIDDEN_NICK_START
        and not _has_bad_char(nick)
    )


def is_valid_room(name: str, max_len: int = CHANNELLEN) -> bool:
    return (
        1 < len(name) <= max_len
        and name[0] in CHANTYPES
        and not _has_bad_char(name)
        and "\x07" not in name
    )


def is_valid_user(user: str) -> bool:
    return 0 < len(user) and not _has_bad_char(user)


def sanitize_user(user: str) -> str:
    """Turn a USER parameter into something safe to show in nick!user@host."""
    cleaned = "".join(ch for ch in user if ch not in _FORBIDDEN_ANYWHERE and
                      unicodedata.category(ch)[0] not in "CZ")
    return cleaned[:USERLEN] or "user"


def mask_matches(mask: str, text: str) -> bool:
    """Glob match of a ban mask (`*` and `?`) against nick!user@host, case-insensitively."""
    m, t = fold(mask), fold(text)
    # Iterative wildcard match with single backtrack point: linear in practice,
    # and never exponential on hostile masks like "*a*a*a*a*b".
    mi = ti = 0
    star_m, star_t = -1, 0
    while ti < len(t):
        if mi < len(m) and (m[mi] == "?" or m[mi] == t[ti]):
            mi += 1
            ti += 1
        elif mi < len(m) and m[mi] == "*":
            star_m, star_t = mi, ti
            mi += 1
        elif star_m != -1:
            mi = star_m + 1
            star_t += 1
            ti = star_t
        else:
            return False
    while mi < len(m) and m[mi] == "*":
        mi += 1
    return mi == len(m)


def normalize_mask(mask: str) -> str:
    """Complete a partial ban mask the way IRC servers do: `bob` -> `bob!*@*`."""
    if "!" not in mask and "@" not in mask:
        return f"{mask}!*@*"
    if "!" not in mask:
        return f"*!{mask}"
    if "@" not in mask:
        return f"{mask}@*"
    return mask
