"""Nicknames and room names: the one place that says what is valid and what is equal.

Names are Unicode (UTF-8 on the wire). Two names are the same when their folded forms
are equal; the folded form is the only key any table may use. Must not import anything
from roomchat outside the protocol package.
"""

from __future__ import annotations

import unicodedata

from chat_server.protocol.confusables import skeleton

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
    """The canonical form for comparing names: NFKC, full Unicode case folding, then
    look-alikes as the ASCII letter they imitate (protocol/confusables.py, after UTS
    #39's skeletons, as Ergo does): "evan" with a Cyrillic "е" is "evan", so nobody can
    take a name that reads as someone else's. Names are shown as typed."""
    return skeleton(
        unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()))


def _has_bad_char(name: str) -> bool:
    for ch in name:
        if ch in _FORBIDDEN_ANYWHERE:
            return True
        # C*: control (BEL included), format (bidi overrides), surrogates, private use,
        # unassigned; Z*: every kind of space and line/paragraph separator.
        if unicodedata.category(ch)[0] in "CZ":
            return True
    return False


def _is_clean(name: str) -> bool:
    # Checked on the folded form too: NFKC turns look-alikes such as U+FF01 FULLWIDTH
    # EXCLAMATION MARK or U+FF03 FULLWIDTH NUMBER SIGN into '!' and '#', and the folded
    # form is what tables and ban masks see.
    return not _has_bad_char(name) and not _has_bad_char(fold(name))


def is_valid_nick(nick: str, max_len: int = NICKLEN) -> bool:
    return (
        0 < len(nick) <= max_len
        and nick[0] not in _FORBIDDEN_NICK_START
        and fold(nick)[0] not in _FORBIDDEN_NICK_START
        and _is_clean(nick)
    )


def is_valid_room(name: str, max_len: int = CHANNELLEN) -> bool:
    return 1 < len(name) <= max_len and name[0] in CHANTYPES and _is_clean(name)


def is_valid_user(user: str, max_len: int = USERLEN) -> bool:
    return 0 < len(user) <= max_len and _is_clean(user)


def sanitize_user(user: str) -> str:
    """Turn a USER parameter into something safe to show in nick!user@host."""
    cleaned = "".join(ch for ch in user if _is_clean(ch))
    return cleaned[:USERLEN] or "user"


def mask_matches(mask: str, text: str) -> bool:
    """Glob match of a ban mask (`*` and `?`) against nick!user@host, case-insensitively."""
    m, t = fold(mask), fold(text)
    # Iterative wildcard match with single backtrack point: linear in practice,
    # and never exponential on hostile masks like "*a*a*a*a*b".
    mi = ti = 0
    star_m, star_t = -1, 0
    while ti < len(t):
        # '*' first: a literal '*' in the text must not consume the mask's wildcard.
        if mi < len(m) and m[mi] == "*":
            star_m, star_t = mi, ti
            mi += 1
        elif mi < len(m) and (m[mi] == "?" or m[mi] == t[ti]):
            mi += 1
            ti += 1
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
    """Complete a partial ban mask the way IRC servers do: `bob` -> `bob!*@*`.

    A part that is missing or empty becomes `*`: `bob@host` -> `*!bob@host`,
    `bob!` -> `bob!*@*`, `` -> `*!*@*`.
    """
    nick, bang, rest = mask.partition("!")
    if not bang:
        nick, rest = ("", mask) if "@" in mask else (mask, "")
    user, _, host = rest.partition("@")
    return f"{nick or '*'}!{user or '*'}@{host or '*'}"
