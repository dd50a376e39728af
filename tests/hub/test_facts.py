"""Facts through a log that applies them later, as a cluster's does: a person's next
commands wait for their change, nick claims are settled in log order, and the log's
entry format refuses what it cannot read."""

from __future__ import annotations

import pytest
from support.links import Link

from chat_server.hub.facts import BadEntry, Fact, Said, UserArrived, decode, encode
from chat_server.hub.hub import Hub, HubSettings
from chat_server.session.irc import IrcSession


def logged_hub(node: str) -> tuple[Hub, list[Fact]]:
    """A hub whose facts wait in a list until the test applies them."""
    hub = Hub(HubSettings(), node=node)
    log: list[Fact] = []
    hub.attach(log.append)
    return hub, log


def person(hub: Hub) -> tuple[IrcSession, Link]:
    link = Link()
    return IrcSession(hub, link), link


def say(session: IrcSession, *lines: str) -> None:
    for line in lines:
        session.on_line(line.encode())


def test_a_command_after_a_join_waits_until_the_join_is_applied() -> None:
    hub, log = logged_hub("n1")
    alice, out = person(hub)
    say(alice, "NICK alice", "USER a 0 * :A")
    assert not alice.user.registered
    say(alice, "JOIN #dev", "PRIVMSG #dev :hello")  # held: the claim is not applied
    assert not [line for line in out.lines() if " 451 " in line]
    applied = 0
    while applied < len(log):  # each held command runs when the fact before it is back
        hub.apply_logged(log[applied])
        applied += 1
    assert alice.user.registered
    assert [type(f).__name__ for f in log] == ["UserArrived", "RoomJoined", "Said"]
    text = "\n".join(out.lines())
    assert " 001 alice " in text and "JOIN #dev" in text and " 366 " in text


def test_two_claims_for_one_nick_the_first_in_the_log_wins_on_both_hubs() -> None:
    hub_a, log_a = logged_hub("a")
    hub_b, log_b = logged_hub("b")
    one, out_one = person(hub_a)
    two, out_two = person(hub_b)
    say(one, "NICK same", "USER u 0 * :u")
    say(two, "NICK same", "USER u 0 * :u")
    order = [*log_a, *log_b]  # the log put a's claim first
    for hub in (hub_a, hub_b):
        for fact in order:
            hub.apply_logged(fact)
    assert one.user.registered and not two.user.registered
    assert any(" 001 same " in line for line in out_one.lines())
    assert any(" 433 " in line for line in out_two.lines())
    assert hub_b.find_user("same") is not None and hub_b.find_user("same").uid == one.user.uid


def test_the_entry_format_round_trips_and_refuses_what_it_cannot_read() -> None:
    fact = Said("n:1", "PRIVMSG", "#dev", "héllo \x01ACTION\x01", "m1", 1.5, True)
    assert decode(encode(fact)) == fact
    assert decode(encode(UserArrived("n:2", "bob", "~b", "h", "Bob", False, 2))) == (
        UserArrived("n:2", "bob", "~b", "h", "Bob", False, 2.0))
    for junk in (b"nope", b"{}", b"[1]", b"[2,0]", b"[1,99]", b"[1,11,1]",
                 b'[1,11,"u","PRIVMSG","#x","t","m",1.0,"yes"]'):
        with pytest.raises(BadEntry):
            decode(junk)


def test_a_message_is_echoed_once_when_its_fact_comes_back() -> None:
    hub, log = logged_hub("n1")
    alice, out = person(hub)
    say(alice, "NICK alice", "USER a 0 * :A")
    hub.apply_logged(log[0])
    say(alice, "CAP REQ :echo-message")
    say(alice, "JOIN #dev")
    hub.apply_logged(log[1])
    say(alice, "PRIVMSG #dev :once")
    hub.apply_logged(log[2])
    assert [line for line in out.lines() if "PRIVMSG #dev" in line] == [
        ":alice!~a@10.0.0.1 PRIVMSG #dev once"]
