"""Dialect detection without sockets: first line or a second of silence decides."""

from __future__ import annotations

import pytest
from support.plain import FakeLink, new_hub

from chat_server.session.detect import SILENCE_SECONDS, Detector, speaks_irc
from chat_server.session.irc import IrcSession
from chat_server.session.plain import PlainSession


@pytest.mark.parametrize(
    "line",
    [b"CAP LS 302", b"NICK bob", b"USER u 0 * :U", b"PASS secret", b"PING x",
     b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2", b"NICK", b"  CAP LS", b"JOIN #room"],
)
def test_irc_openers_mean_irc(line: bytes) -> None:
    assert speaks_irc(line)


@pytest.mark.parametrize(
    "line",
    ["张三".encode(), b"bob", b"nick bob", b"Cap", b"hello there", b"/join dev",
     b"CAPTAIN", b"\xff\xfe"],
)
def test_anything_else_means_a_person(line: bytes) -> None:
    assert not speaks_irc(line)


def detector() -> tuple[Detector, FakeLink]:
    hub = new_hub()
    link = FakeLink()
    return Detector(hub, link, "#lobby"), link


def test_silence_brings_the_plain_greeting_after_a_second() -> None:
    det, link = detector()
    (timer,) = link.timers
    assert timer.delay == SILENCE_SECONDS
    assert link.take() == []
    timer.fire()
    assert isinstance(det.inner, PlainSession)
    assert link.take() == ["roomchat on example.org — 0 people in 0 rooms.", "Pick a nickname:"]
    det.on_line("张三".encode())
    assert det.ready and det.label == "张三"


def test_an_irc_first_line_cancels_the_greeting_and_is_not_lost() -> None:
    det, link = detector()
    det.on_line(b"")
    det.on_line(b"   ")
    assert det.inner is None  # empty lines decide nothing
    det.on_line(b"CAP LS 302")
    assert isinstance(det.inner, IrcSession)
    # The connection talks to the IRC session directly from now on.
    assert link.session is det.inner
    assert link.timers[0].cancelled
    (line,) = link.take()
    assert line.startswith(":example.org CAP * LS :")
    det.on_line(b"NICK bob")
    det.on_line(b"USER bob 0 * :Bob")
    det.on_line(b"CAP END")
    assert det.ready and det.label == "bob"
    assert all(line.startswith(":example.org ") for line in link.take())


def test_a_plain_first_line_is_the_answer_to_the_prompt() -> None:
    det, link = detector()
    det.on_line("张三".encode())
    assert link.timers[0].cancelled
    assert link.take() == [
        "roomchat on example.org — 0 people in 0 rooms.",
        "Pick a nickname:",
        "Welcome, 张三. You are in #lobby, on your own so far. Type /help for commands.",
    ]


def test_an_overlong_first_line_is_a_person_pasting() -> None:
    det, link = detector()
    det.on_overlong()
    assert isinstance(det.inner, PlainSession)
    assert link.take()[-1] == "! Line too long (max 4096 bytes); not sent."


def test_the_hub_counts_an_undecided_connection_once_and_forgets_the_stand_in() -> None:
    det, link = detector()
    hub = det.hub
    assert len(hub.connections) == 1
    det.on_line(b"NICK bob")
    assert len(hub.connections) == 1
    assert link.closed is None


def test_shutdown_before_the_choice_says_goodbye_in_irc_and_closes() -> None:
    det, link = detector()
    det.hub.shutdown("Server shutting down")
    assert link.take() == ["ERROR :Closing Link: 127.0.0.1 (Server shutting down)"]
    assert link.closed == "Server shutting down"
    assert link.timers[0].cancelled


def test_a_drop_before_the_choice_says_why() -> None:
    det, link = detector()
    det.terminate("Registration timeout")
    assert link.take() == ["ERROR :Closing Link: 127.0.0.1 (Registration timeout)"]
    assert link.closed == "Registration timeout"
    assert not det.hub.connections


def test_a_connection_lost_before_the_choice_leaves_nothing_behind() -> None:
    det, link = detector()
    det.connection_lost("Connection closed")
    assert not det.hub.connections
    assert link.timers[0].cancelled
    assert link.take() == []


def test_after_the_choice_everything_goes_to_the_chosen_session() -> None:
    det, link = detector()
    det.on_line("张三".encode())
    link.take()
    det.on_idle()
    assert link.take()[-1].endswith("* Still there? Press Enter to stay connected.")
    det.terminate("Ping timeout: 150 seconds")
    assert link.take()[-1].endswith("* Ping timeout: 150 seconds. Goodbye.")
    assert not det.hub.connections
