"""Cleaning free text (topics, away messages, real names) before others see it.

Message text is passed through as sent, because clients rely on CTCP (\\x01) and
formatting codes; CR, LF and NUL are removed at formatting time. Fields that are shown
out of context, like topics, lose other control characters too. Must not import beyond
the protocol package.
"""

from __future__ import annotations

# mIRC-style bold, colour, hex colour, reset, reverse, italic, strike, underline, monospace.
FORMATTING = frozenset("\x02\x03\x04\x0f\x16\x1d\x1e\x1f\x11")


def strip_controls(text: str, keep_formatting: bool = False) -> str:
    """Drop C0 controls and DEL; keep IRC formatting codes when asked."""
    return "".join(
        ch
        for ch in text
        if not (ch < " " or ch == "\x7f") or (keep_formatting and ch in FORMATTING)
    )


def number(text: str) -> int | None:
    """A count typed as ASCII digits; None for anything else.

    str.isdigit() alone is not enough: it is true of "²" and other Unicode digits that
    int() refuses, which would turn a typo into a traceback.
    """
    return int(text) if text.isascii() and text.isdigit() else None
