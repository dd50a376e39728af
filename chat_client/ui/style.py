"""Colours of the full-screen client, and the nick palette.

Owns the style sheet and the palette that nick colours index into. Must not import the
layout or key bindings.
"""

from __future__ import annotations

from prompt_toolkit.styles import Style

# Readable on dark and light backgrounds alike; the index comes from
# state.nick_colour_index, so a nick keeps its colour across runs and machines.
NICK_PALETTE = (
    "ansired", "ansigreen", "ansiyellow", "ansiblue", "ansimagenta", "ansicyan",
    "#d75f00", "#5f87d7", "#87af00", "#af5faf", "#00af87", "#d7875f",
)

STYLE = Style.from_dict(
    {
        "time": "ansibrightblack",
        "sep": "ansibrightblack",
        "own": "bold",
        "noise": "ansibrightblack",
        "info": "ansibrightblack italic",
        "error": "ansired",
        "topicline": "italic",
        "mention": "bold ansiyellow",
        "marker": "ansired",
        "newbelow": "reverse bold",
        "topic": "bg:ansiblue ansiwhite",
        "status": "bg:#303030 #d0d0d0",
        "status.nick": "bold",
        "status.connected": "ansigreen",
        "status.connecting": "ansiyellow",
        "status.reconnecting": "ansired bold",
        "status.disconnected": "ansired",
        "status.hint": "ansiyellow bold",
        "roomlist": "",
        "roomlist.active": "reverse",
        "roomlist.unread": "bold",
        "roomlist.mention": "bold ansired",
        "roomlist.parted": "ansibrightblack",
        "members": "",
        "members.away": "ansibrightblack",
        "prompt": "bold",
        **{f"nick.{i}": colour for i, colour in enumerate(NICK_PALETTE)},
    }
)
