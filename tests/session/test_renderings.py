"""Every event the hub can send has a rendering in both dialects.

The samples below cover every member of the `Event` union (the first test fails when a
new event type has none), and each is rendered for a plain user and for IRC users with
no capabilities and with all of them: a forgotten case would be a TypeError or an
empty write in a live session, which a user sees as a dropped connection or a missing
line.
"""

from __future__ import annotations

import typing

import pytest
from support.plain import FakeLink, irc_user, new_hub, plain_user

from chat_server.hub.events import (
    AccountChanged,
    AwayChanged,
    Chat,
    Closing,
    Comings,
    Event,
    HistoryFailed,
    Invited,
    Joined,
    Kicked,
    ModeChanged,
    NickChanged,
    Parted,
    People,
    Playback,
    PlaybackKind,
    Quit,
    Reply,
    ServerMessage,
    TargetsPlayback,
    TopicChanged,
    make_source,
)
from chat_server.hub.hub import Hub
from chat_server.hub.registration import CAPABILITIES
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message, parse_line
from chat_server.session.irc import IrcSession

ME = "zhang"
T = 1_764_600_000.0
BOB = make_source("bob", "~bob", "127.0.0.1")
SAID = Chat(BOB, "PRIVMSG", "#room", "hello all", "m1", T, True)

SAMPLES: dict[str, Event] = {
    "room message": SAID,
    "room notice": Chat(BOB, "NOTICE", "#room", "heads up", "m2", T, True),
    "action": Chat(BOB, "PRIVMSG", "#room", "\x01ACTION waves\x01", "m3", T, True),
    "private message": Chat(BOB, "PRIVMSG", ME, "psst", "m4", T, False),
    "joined": Joined(BOB, "#room", T, "m5"),
    "parted": Parted(BOB, "#room", "later", T, "m6"),
    "quit": Quit(BOB, "gone home", T, "m7"),
    "a big room in brief": People("#room", ("ann", "bob"), 2000),
    "comings and goings": Comings("#room", (
        Joined(BOB, "#room", T, "m5"), Parted(make_source("carol", "~c", "h"), "#room", "", T),
        Quit(make_source("dan", "~d", "h"), "gone", T)), T),
    "nick changed": NickChanged(BOB, "robert", T, "m8"),
    "topic changed": TopicChanged(BOB, "#room", "release today", T, "m9"),
    "kicked": Kicked(BOB, "#room", "carol", "be nice", T, "m10"),
    "mode changed": ModeChanged(BOB, "#room", "+o", ("carol",), T, "m11"),
    "server mode": ModeChanged(None, "#room", "+nt", (), T, "m12"),
    "away": AwayChanged(BOB, "lunch", T),
    "back": AwayChanged(BOB, "", T),
    "account": AccountChanged(BOB, "bob", T),
    "invited": Invited(BOB, ME, "#room", T),
    "history": Playback(PlaybackKind.CHATHISTORY, "#room", (SAID, Joined(BOB, "#room", T))),
    "replay on join": Playback(PlaybackKind.JOIN, "#room", (SAID,)),
    "empty history": Playback(PlaybackKind.CHATHISTORY, "#room", ()),
    "history targets": TargetsPlayback((("#room", T), ("bob", T))),
    "history refused": HistoryFailed("INVALID_TARGET", ("LATEST", "#nowhere"),
                                     "No such conversation"),
    "reply": Reply(N.ERR_NOSUCHNICK, ("nobody", "No such nick/channel")),
    "server notice": ServerMessage(Message("NOTICE", (ME, "maintenance at noon"))),
    "closing": Closing("Server shutting down"),
}
# Renderings that may be empty, each for its reason: plain mode never asks for TARGETS;
# without batches an empty CHATHISTORY answer has no line to frame it.
PLAIN_MAY_SKIP = frozenset({"history targets"})
# Without account-notify nobody is told of logins.
IRC_MAY_SKIP = frozenset({("empty history", "no-caps"), ("account", "no-caps")})


def test_the_samples_cover_every_event_type() -> None:
    covered = {type(event) for event in SAMPLES.values()}
    assert set(typing.get_args(Event)) - covered == set(), "add a sample for the new event"


def irc_user_with_caps(hub: Hub, nick: str, caps: tuple[str, ...]) -> IrcSession:
    link = FakeLink()
    session = IrcSession(hub, link)
    session.on_line(b"CAP LS 302")
    session.on_line(("CAP REQ :" + " ".join(caps)).encode())
    session.on_line(f"NICK {nick}".encode())
    session.on_line(f"USER {nick} 0 * :{nick}".encode())
    session.on_line(b"CAP END")
    assert session.user.registered and set(caps) <= session.user.caps, link.take()
    return session


def well_formed(data: bytes) -> list[str]:
    assert data.endswith(b"\r\n"), data
    lines = data.decode("utf-8").split("\r\n")[:-1]
    assert all(line and "\r" not in line and "\n" not in line for line in lines), lines
    return lines


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_event_renders_for_a_plain_user(name: str) -> None:
    hub = new_hub()
    zhang, _ = plain_user(hub, ME)
    data = zhang.render(SAMPLES[name])
    if name in PLAIN_MAY_SKIP and data == b"":
        return
    lines = well_formed(data)
    # A person reads words, not IRC: no protocol line leaks into plain mode.
    assert not any(line.startswith((":", "@")) for line in lines), lines


@pytest.mark.parametrize("caps", [(), CAPABILITIES], ids=["no-caps", "all-caps"])
@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_event_renders_for_an_irc_user(name: str, caps: tuple[str, ...]) -> None:
    hub = new_hub()
    session = irc_user_with_caps(hub, ME, caps) if caps else irc_user(hub, ME)[0]
    data = session.render(SAMPLES[name])
    if (name, "all-caps" if caps else "no-caps") in IRC_MAY_SKIP and data == b"":
        return
    for line in well_formed(data):
        assert parse_line(line).command, line


def test_anything_else_is_a_type_error_in_both_dialects() -> None:
    hub = new_hub()
    zhang, _ = plain_user(hub, ME)
    bob, _ = irc_user(hub, "bob")
    for session in (zhang, bob):
        with pytest.raises(TypeError):
            session.render(object())  # type: ignore[arg-type]
