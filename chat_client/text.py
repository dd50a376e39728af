"""Making remote text safe and tidy to show: IRC formatting codes and control characters.

Owns what a terminal gets to see of other people's bytes: a message may not move the
cursor, ring the bell, or change colours behind our back. Pure string functions; must
not import prompt_toolkit.
"""

from __future__ import annotations

import re

# mIRC colour (\x03 with up to two numbers), hex colour (\x04), and the toggles:
# bold, italics, underline, strike, monospace, reverse, reset.
_FORMATTING = re.compile(r"\x03(\d{1,2}(,\d{1,2})?)?|\x04([0-9a-fA-F]{6}(,[0-9a-fA-F]{6})?)?"
                         r"|[\x02\x1d\x1f\x1e\x11\x16\x0f]")
# Whatever control characters remain (C0, DEL, C1) would drive the terminal.
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Remove formatting codes and control characters; tabs become spaces."""
    text = _FORMATTING.sub("", text)
    return _CONTROLS.sub("", text.replace("\t", "    "))
