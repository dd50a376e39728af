"""Nick protection's timers on a hub without sockets: the test holds each grace's
callback and runs it when it likes, so which grace renames whom is exact."""

from __future__ import annotations

from collections.abc import Callable

from support.links import Link

from chat_server.config import AccountsSection
from chat_server.hub.accounts import Account
from chat_server.hub.facts import AccountDropped, LoggedIn
from chat_server.hub.hub import Hub, HubSettings
from chat_server.session.irc import IrcSession


class Person:
    def __init__(self, hub: Hub, nick: str) -> None:
        self.link = Link()
        self.session = IrcSession(hub, self.link)
        self.arrival = self.say(f"NICK {nick}", f"USER {nick} 0 * :{nick}")

    def say(self, *lines: str) -> list[str]:
        for line in lines:
            self.session.on_line(line.encode())
        return self.link.lines()


def make_hub(protection: str = "enforce") -> tuple[Hub, list[Callable[[], None]]]:
    timers: list[Callable[[], None]] = []
    hub = Hub(HubSettings(accounts=AccountsSection(nick_protection=protection,
                                                   login_grace=30.0)))

    def later(delay: float, fn: Callable[[], None]) -> None:
        assert delay == 30.0
        timers.append(fn)

    hub.later = later
    for name in ("ursa", "vera"):
        account = Account(name, "$argon2id$not-a-real-hash", "", (), 1.0)
        hub.accounts[account.folded] = account
    return hub, timers


def renames(lines: list[str]) -> list[str]:
    return [line for line in lines if " NICK " in line]


def test_arriving_on_a_registered_nick_warns_then_renames_with_the_reason() -> None:
    hub, timers = make_hub()
    ursa = Person(hub, "ursa")
    assert any("This nickname is registered. Log in within 30 seconds" in line
               for line in ursa.arrival)
    assert len(timers) == 1
    timers[0]()
    lines = ursa.link.lines()
    assert "ursa is a registered nickname and you did not log in to it within 30 seconds" \
        in lines[0]
    assert renames(lines) and renames(lines)[0].startswith(":ursa!")
    assert ursa.session.user.nick.startswith("Guest")


def test_leaving_the_nick_and_coming_back_gets_a_whole_grace() -> None:
    hub, timers = make_hub()
    ursa = Person(hub, "ursa")
    ursa.say("NICK elsewhere", "NICK ursa")
    assert len(timers) == 2
    timers[0]()  # the first grace ends with ursa back on the nick: not hers to end
    assert renames(ursa.link.lines()) == []
    timers[1]()
    assert renames(ursa.link.lines())


def test_logging_in_or_the_account_going_away_ends_the_grace() -> None:
    hub, timers = make_hub()
    ursa, vera = Person(hub, "ursa"), Person(hub, "vera")
    hub.emit(LoggedIn(ursa.session.user.uid, "ursa"))
    hub.emit(AccountDropped(vera.session.user.uid, "vera"))
    ursa.link.lines()
    vera.link.lines()
    for fire in timers:
        fire()
    assert renames(ursa.link.lines()) == [] and ursa.session.user.nick == "ursa"
    assert renames(vera.link.lines()) == [] and vera.session.user.nick == "vera"


def test_strict_and_off_set_no_timer() -> None:
    for protection in ("strict", "off"):
        hub, timers = make_hub(protection)
        Person(hub, "someone").say("NICK ursa")
        assert timers == []
