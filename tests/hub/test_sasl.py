"""AUTHENTICATE against any bytes at any step of any mechanism: every response gets a
challenge or a 90x numeric, never an exception, and the exchange can start again."""

from __future__ import annotations

import base64
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from scramp import ScramClient
from support.links import Link as BaseLink

from chat_server.hub.accounts import Account, make_credentials
from chat_server.hub.hub import Hub, HubSettings
from chat_server.protocol.sasl import encode_response
from chat_server.session.irc import IrcSession

PASSWORD = "correct horse battery"
CREDENTIALS = make_credentials(PASSWORD, 4096)


class Link(BaseLink):
    secure = True
    certfp = "ab" * 32


def connected() -> tuple[IrcSession, Link]:
    hub = Hub(HubSettings())
    hub.accounts["alice"] = Account("alice", *CREDENTIALS, ("ab" * 32,), time.time())
    link = Link()
    session = IrcSession(hub, link)
    for line in ("CAP LS 302", "CAP REQ sasl", "NICK alice", "USER a 0 * :A"):
        session.on_line(line.encode())
    link.lines()
    return session, link


def answer(session: IrcSession, link: Link, *params: str) -> list[str]:
    for param in params:
        session.on_line(f"AUTHENTICATE {param}".encode())
    return link.lines()


def scram_steps(session: IrcSession, link: Link, steps: int) -> None:
    """Run a correct SCRAM exchange for `steps` responses."""
    client = ScramClient(["SCRAM-SHA-256"], "alice", PASSWORD)
    answer(session, link, "SCRAM-SHA-256")
    if steps >= 1:
        first = answer(session, link, *encode_response(client.get_client_first().encode()))
        client.set_server_first(base64.b64decode(first[-1].split()[-1]).decode())
    if steps >= 2:
        answer(session, link, *encode_response(client.get_client_final().encode()))


@settings(max_examples=200)
@given(st.sampled_from(["PLAIN", "EXTERNAL", "SCRAM-SHA-256"]), st.integers(0, 2),
       st.binary(max_size=600))
def test_any_response_at_any_step_is_answered(mechanism: str, step: int, data: bytes) -> None:
    session, link = connected()
    if mechanism == "SCRAM-SHA-256":
        scram_steps(session, link, step)
    else:
        answer(session, link, mechanism)
    lines = answer(session, link, *encode_response(data))
    assert lines, "no answer"
    assert all(" AUTHENTICATE " in line or " 90" in line for line in lines)
    # Unless it logged in, the exchange is over (or waits for more) and a new one starts.
    if not any(" 903 " in line for line in lines):
        answer(session, link, "*")
        assert answer(session, link, "PLAIN")[-1].endswith(" AUTHENTICATE +")


def test_external_takes_the_account_of_the_certificate() -> None:
    session, link = connected()
    lines = answer(session, link, "EXTERNAL", "+")
    assert [line.split()[1] for line in lines] == ["AUTHENTICATE", "900", "903"]
