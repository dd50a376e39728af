"""Accounts against someone looking for a way in, on a hub without sockets: IRC
sessions over a link that keeps what they were sent, real argon2id work done inline."""

from __future__ import annotations

import base64
import logging

import pytest
from scramp import ScramClient
from support.links import Link

from chat_server.config import AccountsSection
from chat_server.hub.accounts import Account
from chat_server.hub.hub import Hub, HubSettings
from chat_server.hub.snapshot import dump, load
from chat_server.session.irc import IrcSession

PASSWORD = "a-long-password"


class Registry:
    """Keeps what the hub saves, as the store would."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.dropped: set[str] = set()

    def save_account(self, account: Account) -> None:
        self.accounts[account.folded] = account

    def drop_account(self, folded: str) -> None:
        self.accounts.pop(folded, None)
        self.dropped.add(folded)

    def save_room(self, record: object) -> None:
        return None

    def drop_room(self, folded: str) -> None:
        return None


class Person:
    def __init__(self, hub: Hub, nick: str, *caps: str) -> None:
        self.link = Link()
        self.session = IrcSession(hub, self.link)
        lines = [f"CAP REQ :{' '.join(caps)}"] if caps else []
        self.say(*lines, f"NICK {nick}", f"USER {nick} 0 * :{nick}", "CAP END")

    def say(self, *lines: str) -> list[str]:
        for line in lines:
            self.session.on_line(line.encode())
        return self.link.lines()

    def ns(self, text: str) -> list[str]:
        return [line.split(" :", 1)[1] for line in self.say(f"PRIVMSG NickServ :{text}")
                if line.startswith(":NickServ!") and " NOTICE " in line]


def test_a_dropped_account_name_cannot_be_registered_again() -> None:
    # An account's private conversations are kept under the account: whoever
    # registered the name next would read them with CHATHISTORY.
    registry = Registry()
    hub = Hub(HubSettings(), registry=registry)
    kim = Person(hub, "kim")
    assert "created" in " ".join(kim.ns(f"REGISTER {PASSWORD}"))
    assert "is dropped" in " ".join(kim.ns(f"DROP {PASSWORD}"))
    kim.say("QUIT")
    stranger = Person(hub, "kim", "draft/account-registration")
    refused = stranger.say(f"REGISTER * * :{PASSWORD}-2")
    assert any(" FAIL REGISTER ACCOUNT_EXISTS kim " in line for line in refused), refused
    assert "cannot be registered again" in " ".join(stranger.ns(f"REGISTER {PASSWORD}-2"))
    assert "kim" not in hub.accounts and stranger.session.user.account == ""

    # After a restart the store gives the name back as dropped: still refused.
    again = Hub(HubSettings())
    again.load_registry([Account("kim", "", "", (), 1.0)], [])
    assert "cannot be registered again" in " ".join(
        Person(again, "kim").ns(f"REGISTER {PASSWORD}-2"))
    assert registry.dropped == {"kim"}


def test_a_snapshot_carries_dropped_names_to_a_late_node() -> None:
    hub = Hub(HubSettings())
    kim = Person(hub, "kim")
    kim.ns(f"REGISTER {PASSWORD}")
    kim.ns(f"DROP {PASSWORD}")
    kim.say("QUIT")
    registry = Registry()
    late = Hub(HubSettings(), registry=registry)
    load(late, dump(hub))
    assert late.dropped == {"kim"} and registry.dropped == {"kim"}
    assert "cannot be registered again" in " ".join(
        Person(late, "kim").ns(f"REGISTER {PASSWORD}-2"))


def _scram_attempt(person: Person, name: str, password: str) -> list[str]:
    """One SCRAM-SHA-256 exchange as far as the server lets it go; its last lines."""
    client = ScramClient(["SCRAM-SHA-256"], name, password)
    lines = person.say("AUTHENTICATE SCRAM-SHA-256",
                       "AUTHENTICATE " + b64(client.get_client_first()))
    challenge = [line.split()[-1] for line in lines if " AUTHENTICATE " in f" {line}"]
    if challenge and challenge[-1] != "+":
        client.set_server_first(base64.b64decode(challenge[-1]).decode())
        lines = person.say("AUTHENTICATE " + b64(client.get_client_final()))
    return lines


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_scram_and_external_never_log_a_name_that_is_no_account(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A password typed where the name goes must not reach the log, whichever
    # mechanism carried it (PLAIN and NickServ already keep it out).
    typed = "Sekrit-Pass-4913"
    hub = Hub(HubSettings())
    person = Person(hub, "ivy", "sasl")
    caplog.set_level(logging.DEBUG)
    answers = [_scram_attempt(person, typed, "whatever") for _ in range(7)]
    assert any(" 904 " in line for line in answers[0])
    assert any("Too many failed logins" in line for line in answers[-1]), answers[-1]
    person.link.certfp = "ab" * 32
    person.session.user.certfp = "ab" * 32
    person.say("AUTHENTICATE EXTERNAL", "AUTHENTICATE " + b64(typed))
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) >= 8
    assert not [w for w in warnings if typed.lower() in w.lower()], warnings


def test_password_work_per_address_is_bounded_whatever_its_outcome() -> None:
    # The login throttle counts failures only: logins that succeed, SET PASSWORD and
    # REGISTER each cost an argon2id hash, and one address must not keep the
    # password threads busy with them.
    now = [1_700_000_000.0]
    settings = HubSettings(accounts=AccountsSection(password_work_per_ip=3))
    hub = Hub(settings, clock=lambda: now[0])
    kim = Person(hub, "kim")
    assert "created" in " ".join(kim.ns(f"REGISTER {PASSWORD}"))
    assert "is changed" in " ".join(kim.ns(f"SET PASSWORD {PASSWORD}-2"))
    other = Person(hub, "lee")  # the same address
    assert "now logged in" in " ".join(other.ns(f"IDENTIFY kim {PASSWORD}-2"))
    busy = "Too many password checks and changes from your address; try again in 60 seconds"
    assert kim.ns(f"SET PASSWORD {PASSWORD}-3") == [busy]
    sasl = Person(hub, "max", "sasl")
    refused = sasl.say("AUTHENTICATE PLAIN", "AUTHENTICATE " + b64(f"\0kim\0{PASSWORD}-2"))
    assert any(" 904 " in line and "Too many password checks" in line for line in refused)
    now[0] += 60.5
    assert "is changed" in " ".join(kim.ns(f"SET PASSWORD {PASSWORD}-3"))
