"""Accounts in plain mode, driven by plain calls on a real hub: the password prompt of a
registered nickname, /login, /logout and /register's own errors (docs/PLAIN-MODE.md).

The password check runs where the test says: at once (`InlinePasswords`), or when the
test lets it finish (`LaterPasswords`), as the server's threads would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from support.plain import FakeLink, irc_user, plain_user, untimed

from chat_server.config import AccountsSection
from chat_server.hub.accounts import Account, Credentials, make_credentials, verify_password
from chat_server.hub.hub import Hub, HubSettings
from chat_server.session.plain import HELP_ORDER, PlainSession

PASSWORD = "sesame-open"
PROMPT = "This nickname is registered. Password:"
# Few iterations: the test checks the flow, not the cost.
CREDENTIALS = make_credentials(PASSWORD, 4096)


class LaterPasswords:
    """Checks a password only when the test calls `finish`, as a thread would later."""

    def __init__(self) -> None:
        self.waiting: list[Callable[[], None]] = []

    def make(self, password: str, iterations: int,
             done: Callable[[Credentials | None], None]) -> None:
        self.waiting.append(lambda: done(make_credentials(password, iterations)))

    def check(self, password_hash: str, password: str, done: Callable[[bool], None]) -> None:
        self.waiting.append(lambda: done(verify_password(password_hash, password)))

    def finish(self) -> None:
        waiting, self.waiting = self.waiting, []
        for work in waiting:
            work()


def hub_with_alice(passwords: LaterPasswords | None = None, **accounts: Any) -> Hub:
    hub = Hub(HubSettings(name="example.org", accounts=AccountsSection(**accounts)),
              passwords=passwords)
    hub.accounts["alice"] = Account("alice", CREDENTIALS.password_hash, CREDENTIALS.scram,
                                    (), 0.0)
    return hub


def newcomer(hub: Hub) -> tuple[PlainSession, FakeLink]:
    link = FakeLink()
    session = PlainSession(hub, link, "#lobby")
    link.take()
    return session, link


def type_(session: PlainSession, link: FakeLink, line: str) -> list[str]:
    session.on_line(line.encode())
    return [untimed(x) for x in link.take()]


@pytest.mark.parametrize("protection", ["enforce", "strict"])
def test_a_registered_nickname_asks_for_its_password_and_the_right_one_lets_in(
    protection: str,
) -> None:
    hub = hub_with_alice(nick_protection=protection)
    _, bob_link = plain_user(hub, "bob")
    alice, link = newcomer(hub)
    assert type_(alice, link, "alice") == [
        "* alice belongs to an account: an empty line or /nick OTHER picks another nickname.",
        PROMPT,
    ]
    assert not alice.ready
    assert type_(alice, link, "not-the-password") == [
        "! Invalid account credentials. Password (an empty line or /nick OTHER picks "
        "another nickname):",
    ]
    assert not alice.ready
    assert type_(alice, link, PASSWORD) == [
        "* You are now logged in as alice.",
        "Welcome, alice. You are in #lobby with bob (2 people). Type /help for commands.",
    ]
    assert alice.user.account == "alice"
    assert type_(alice, link, "hello") == ["#lobby <alice> hello"]
    seen = [untimed(x) for x in bob_link.take()]
    assert seen == ["#lobby * alice joined.", "#lobby <alice> hello"]
    assert not any(PASSWORD in line or "not-the-password" in line for line in seen)


def test_an_empty_line_or_another_nick_is_the_way_out_of_the_password_prompt() -> None:
    hub = hub_with_alice()
    mallory, link = newcomer(hub)
    type_(mallory, link, "alice")
    assert type_(mallory, link, "") == ["Pick a nickname:"]
    type_(mallory, link, "alice")
    assert type_(mallory, link, "/help")[-1] == PROMPT
    assert type_(mallory, link, "/nick mallory")[0] == (
        "Welcome, mallory. You are in #lobby, on your own so far. Type /help for commands."
    )
    assert mallory.user.account == ""


def test_lines_typed_while_the_password_is_checked_wait_for_the_welcome() -> None:
    passwords = LaterPasswords()
    hub = hub_with_alice(passwords)
    _, bob_link = plain_user(hub, "bob")
    alice, link = newcomer(hub)
    type_(alice, link, "alice")
    alice.on_line(PASSWORD.encode())
    alice.on_line(b"typed before the check ended")
    assert link.take() == []
    passwords.finish()
    assert [untimed(x) for x in link.take()] == [
        "* You are now logged in as alice.",
        "Welcome, alice. You are in #lobby with bob (2 people). Type /help for commands.",
        "#lobby <alice> typed before the check ended",
    ]
    assert [untimed(x) for x in bob_link.take()] == [
        "#lobby * alice joined.", "#lobby <alice> typed before the check ended"]


def test_too_many_wrong_passwords_are_refused_with_the_wait() -> None:
    now = [1000.0]
    hub = hub_with_alice(login_attempts=3, login_delay=10.0)
    hub.clock = hub.throttle.clock = lambda: now[0]
    alice, link = newcomer(hub)
    type_(alice, link, "alice")
    for _ in range(3):
        assert type_(alice, link, "wrong-again")[0].startswith("! Invalid account credentials.")
    [refused] = type_(alice, link, PASSWORD)
    assert refused.startswith("! Too many failed logins"), refused
    assert "try again in 10 seconds" in refused
    assert refused.endswith(". Password (an empty line or /nick OTHER picks another nickname):")
    assert not alice.ready
    now[0] += 10.5
    assert type_(alice, link, PASSWORD)[0] == "* You are now logged in as alice."


def test_nick_change_to_a_registered_nick_asks_too_and_an_empty_line_keeps_the_old_one() -> None:
    hub = hub_with_alice()
    zhang, link = plain_user(hub, "zhang")
    assert type_(zhang, link, "/nick alice") == [
        "* alice belongs to an account: an empty line keeps you zhang.", PROMPT]
    assert type_(zhang, link, "") == ["* You are still zhang."]
    assert type_(zhang, link, "hello") == ["#lobby <zhang> hello"]
    type_(zhang, link, "/nick alice")
    assert type_(zhang, link, PASSWORD) == [
        "* You are now logged in as alice.", "* You are now known as alice."]


def test_login_logout_and_the_notice_that_points_to_login() -> None:
    hub = hub_with_alice()
    irc_user(hub, "bob")
    zhang, link = plain_user(hub, "zhang")
    assert type_(zhang, link, "/login alice nope") == [
        "! Invalid account credentials; you are not logged in."]
    assert type_(zhang, link, f"/login alice {PASSWORD}") == ["* You are now logged in as alice."]
    assert zhang.user.account == "alice"
    assert type_(zhang, link, f"/login alice {PASSWORD}") == [
        "! You are logged in as alice already; /logout first."]
    type_(zhang, link, "/nick alice")  # logged in: no password asked
    assert zhang.user.nick == "alice"
    out = type_(zhang, link, "/logout")
    assert out[0] == "* You are now logged out."
    assert out[1].startswith("<- -NickServ- This nickname is registered.")
    assert "/login PASSWORD" in out[1] and "renamed" in out[1]
    assert type_(zhang, link, f"/login {PASSWORD}") == ["* You are now logged in as alice."]
    renames: list[Callable[[], None]] = []
    hub.later = lambda delay, fn: renames.append(fn)
    assert type_(zhang, link, "/logout")[0] == "* You are now logged out."
    assert type_(zhang, link, "/logout") == ["! You are not logged in."]
    for rename in renames:
        rename()
    assert any(re.fullmatch(r"\* You are now known as Guest\d+\.", untimed(line))
               for line in link.take())


def test_login_at_the_nickname_prompt_takes_the_nickname() -> None:
    hub = hub_with_alice()
    alice, link = newcomer(hub)
    assert type_(alice, link, f"/login {PASSWORD}") == [
        "! Pick a nickname first, or /login NAME PASSWORD:"]
    assert type_(alice, link, "/login alice wrong-one") == [
        "! Invalid account credentials; you are not logged in. Pick a nickname:"]
    assert type_(alice, link, f"/login alice {PASSWORD}") == [
        "* You are now logged in as alice.",
        "Welcome, alice. You are in #lobby, on your own so far. Type /help for commands.",
    ]


def test_register_says_what_is_plainly_wrong_before_asking_nickserv() -> None:
    hub = hub_with_alice()
    zhang, link = plain_user(hub, "zhang")
    assert type_(zhang, link, "/register short") == [
        "! That password is too short: use at least 8 characters."]
    assert type_(zhang, link, "/register two words") == [
        "! A password is one word, without spaces: /register PASSWORD"]
    assert type_(zhang, link, "/register " + "x" * 301) == [
        "! That password is too long: at most 300 bytes."]
    type_(zhang, link, f"/login alice {PASSWORD}")
    assert type_(zhang, link, "/register long-enough") == [
        "! You are logged in as alice already."]
    closed = hub_with_alice(registration="closed")
    other, other_link = plain_user(closed, "other")
    assert type_(other, other_link, "/register long-enough") == [
        "! Registration is closed on this server."]
    taken = hub_with_alice(nick_protection="off")
    squatter, squatter_link = plain_user(taken, "alice")
    assert type_(squatter, squatter_link, "/register long-enough") == [
        "! alice is registered already; /login PASSWORD if it is yours."]


def test_without_nick_protection_a_registered_nickname_is_not_asked_for() -> None:
    hub = hub_with_alice(nick_protection="off")
    alice, link = newcomer(hub)
    assert type_(alice, link, "alice")[0].startswith("Welcome, alice.")
    assert alice.user.account == ""


def test_help_lists_the_account_commands() -> None:
    listed = {cmd.name for cmd in HELP_ORDER}
    assert {"register", "login", "logout"} <= listed
