"""Logging in from chat-client: SASL while registering (SCRAM-SHA-256, or PLAIN only over
TLS unless allowed), /register and /login afterwards, the hint a "nickname is
registered" notice brings, and no password on screen or in the input history.

First the sans-I/O protocol against hand-written server lines (a scramp server plays
the other side of SCRAM), then the client core and its connection against a real
in-process server.
"""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from client.clienthelpers import feed as feed_client
from client.clienthelpers import make_client, until
from client.terminal import BIN, RawIrc, ServerProcess, Tmux, client_env, require_tmux
from client.terminal import make_account as make_account_raw
from prompt_toolkit.document import Document
from prompt_toolkit.layout.processors import TransformationInput
from scramp import ScramMechanism
from support.irc import IrcClient
from support.servers import running_server
from support.tls import Pki, tls_server

from chat_client import events as ev
from chat_client.client import Client
from chat_client.commands import secret_start
from chat_client.config import Config, load
from chat_client.net import Connection
from chat_client.protocol import ClientProtocol
from chat_client.state import LineKind
from chat_client.sts import PolicyStore
from chat_client.ui.secret import MaskSecrets, SecretSafeHistory
from chat_server.protocol.message import parse_line

PASSWORD = "open-sesame-42"
TIMEOUT = 10.0


def sent(proto: ClientProtocol) -> list[str]:
    return [parse_line(raw).to_line() for raw in proto.data_to_send().split(b"\r\n") if raw]


def feed(proto: ClientProtocol, *lines: str) -> list[ev.Event]:
    return proto.receive_data("".join(f"{line}\r\n" for line in lines).encode())


def errors(events: list[ev.Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, ev.ServerText) and e.error]


def sasl_client(*, secure: bool = False, **kwargs: Any) -> ClientProtocol:
    proto = ClientProtocol("ann", password=PASSWORD, sasl=True, **kwargs)
    proto.connection_made(secure)
    proto.data_to_send()
    return proto


def start_sasl(proto: ClientProtocol, offered: str) -> None:
    """CAP LS offering `offered`, the ACK of sasl, and the server's first "+"."""
    feed(proto, f":srv CAP * LS :{offered}")
    sent(proto)
    feed(proto, ":srv CAP ann ACK :sasl")
    sent(proto)
    feed(proto, "AUTHENTICATE +")


def authenticate_payload(line: str) -> str:
    command, _, payload = line.partition(" ")
    assert command == "AUTHENTICATE", line
    return base64.b64decode(payload).decode() if payload != "+" else ""


# -- choosing the mechanism ----------------------------------------------------------


def test_scram_is_used_when_offered_and_the_server_must_prove_it_knows_the_password() -> None:
    mechanism = ScramMechanism("SCRAM-SHA-256")
    auth_info = mechanism.make_auth_info(PASSWORD, iteration_count=4096)
    server = mechanism.make_server(lambda name: auth_info)
    proto = sasl_client()  # plaintext: fine for SCRAM, which never sends the password
    feed(proto, ":srv CAP * LS :sasl=PLAIN,EXTERNAL,SCRAM-SHA-256 server-time")
    assert sent(proto)[-1] == "CAP REQ :sasl server-time"
    events = feed(proto, ":srv CAP ann ACK :sasl server-time")
    assert sent(proto) == ["AUTHENTICATE SCRAM-SHA-256"]
    assert [e.text for e in events if isinstance(e, ev.ServerText)] == [
        "Logging in as ann with SCRAM-SHA-256…"]
    feed(proto, "AUTHENTICATE +")
    (first,) = sent(proto)
    server.set_client_first(authenticate_payload(first))
    assert "n=ann," in authenticate_payload(first)
    feed(proto, f"AUTHENTICATE {base64.b64encode(server.get_server_first().encode()).decode()}")
    (final,) = sent(proto)
    assert PASSWORD not in authenticate_payload(final)
    server.set_client_final(authenticate_payload(final))
    feed(proto, f"AUTHENTICATE {base64.b64encode(server.get_server_final().encode()).decode()}")
    assert sent(proto) == ["AUTHENTICATE +"]
    events = feed(proto, ":srv 900 ann ann!u@h ann :You are now logged in as ann",
                  ":srv 903 ann :SASL authentication successful")
    assert events == [ev.AccountChanged("ann", "You are now logged in as ann")]
    assert sent(proto) == ["CAP END"]


def test_a_server_final_with_the_wrong_signature_aborts_and_registration_goes_on() -> None:
    honest = ScramMechanism("SCRAM-SHA-256")
    server = honest.make_server(
        lambda name: honest.make_auth_info("not the password", iteration_count=4096))
    proto = sasl_client()
    start_sasl(proto, "sasl=SCRAM-SHA-256")
    (first,) = sent(proto)
    server.set_client_first(authenticate_payload(first))
    feed(proto, f"AUTHENTICATE {base64.b64encode(server.get_server_first().encode()).decode()}")
    sent(proto)
    # A server-final from a server that does not hold this password's keys.
    forged = "v=" + base64.b64encode(b"\0" * 32).decode()
    events = feed(proto, f"AUTHENTICATE {base64.b64encode(forged.encode()).decode()}")
    assert sent(proto) == ["AUTHENTICATE *"]
    (error,) = errors(events)
    assert error.startswith("SASL login as ann stopped: SCRAM failed")
    assert error.endswith("; continuing without logging in.")
    feed(proto, ":srv 906 ann :SASL authentication aborted")
    assert sent(proto) == ["CAP END"]


def test_plain_is_refused_over_plaintext_and_says_how_to_allow_it() -> None:
    proto = sasl_client()
    events = feed(proto, ":srv CAP * LS :sasl=PLAIN server-time")
    lines = sent(proto)
    assert "CAP REQ server-time" in lines and not any("sasl" in line for line in lines)
    assert not any(line.startswith("PASS") for line in lines), lines
    (error,) = errors(events)
    assert "SASL PLAIN" in error and "--tls" in error and "sasl_plain_without_tls" in error


@pytest.mark.parametrize("secure", [True, False])
def test_plain_over_tls_or_when_allowed(secure: bool) -> None:
    proto = sasl_client(secure=secure, sasl_plain_without_tls=not secure)
    start_sasl(proto, "sasl=PLAIN,EXTERNAL")
    (line,) = sent(proto)
    assert base64.b64decode(line.split()[1]) == f"\0ann\0{PASSWORD}".encode()


def test_a_failed_login_is_said_and_registration_goes_on() -> None:
    proto = sasl_client(secure=True)
    start_sasl(proto, "sasl=PLAIN")
    sent(proto)
    events = feed(proto, ":srv 904 ann :SASL authentication failed")
    assert errors(events) == ["SASL login as ann failed: SASL authentication failed; "
                              "continuing without logging in."]
    assert sent(proto) == ["CAP END"]
    assert feed(proto, ":srv 001 ann :Welcome")[0] == ev.Registered("ann", "srv")


def test_sasl_asked_for_from_a_server_without_it_sends_no_password() -> None:
    proto = sasl_client()
    events = feed(proto, ":srv CAP * LS :server-time")
    assert errors(events) == ["The server does not offer SASL: not logged in."]
    assert not any(PASSWORD in line for line in sent(proto))


def test_a_long_server_message_in_chunks_is_put_together() -> None:
    proto = sasl_client()
    start_sasl(proto, "sasl=SCRAM-SHA-256")
    (first,) = sent(proto)
    nonce = authenticate_payload(first).split("r=", 1)[1]
    # A server-first with a long nonce of its own: over 400 bytes of base64.
    salt = base64.b64encode(b"sixteen-byte-salt").decode()
    server_first = f"r={nonce}{'x' * 400},s={salt},i=4096"
    blob = base64.b64encode(server_first.encode()).decode()
    chunks = [blob[i:i + 400] for i in range(0, len(blob), 400)]
    assert len(chunks) > 1
    for chunk in chunks[:-1]:
        feed(proto, f"AUTHENTICATE {chunk}")
        assert sent(proto) == []
    feed(proto, f"AUTHENTICATE {chunks[-1]}")
    # Our answer repeats the long nonce, so it goes in chunks too.
    answer = [line.split()[1] for line in sent(proto)]
    assert len(answer) > 1 and all(len(chunk) == 400 for chunk in answer[:-1])
    assert base64.b64decode("".join(answer)).decode().startswith("c=biws,r=")


# -- after registration ------------------------------------------------------------


def test_register_uses_ircv3_register_when_offered_else_nickserv() -> None:
    client, wire = make_client(caps="server-time draft/account-registration=before-connect")
    client.execute(f"/register {PASSWORD}")
    assert wire.commands() == [f"REGISTER * * {PASSWORD}"]
    feed_client(client, "REGISTER SUCCESS me :Account me created")
    assert "Account me created" in [line.text for line in client.state.server_buffer.lines]
    client, wire = make_client(caps="server-time")
    client.execute(f"/register {PASSWORD}")
    assert wire.commands() == [f"PRIVMSG NickServ :REGISTER {PASSWORD}"]


def test_login_identifies_to_nickserv_and_a_reconnect_then_logs_in_by_sasl() -> None:
    client, wire = make_client(caps="server-time")
    client.execute(f"/login {PASSWORD}")
    assert wire.commands() == [f"PRIVMSG NickServ :IDENTIFY {PASSWORD}"]
    client.execute(f"/login someone {PASSWORD}")
    assert wire.commands() == [f"PRIVMSG NickServ :IDENTIFY someone {PASSWORD}"]
    feed_client(client, ":srv 900 me me!u@h someone :You are now logged in as someone")
    assert client.state.account == "someone"
    texts = [line.text for line in client.state.active.lines]
    assert "You are now logged in as someone" in texts
    assert not any(PASSWORD in line.text for buf in client.state.buffers for line in buf.lines)
    # The next connection logs in by itself, as if --sasl had been given.
    client.attach(wire.write, secure=True)
    feed_client(client, ":srv CAP * LS :sasl=PLAIN", ":srv CAP me ACK :sasl", "AUTHENTICATE +")
    *_, plain = wire.commands()
    assert base64.b64decode(plain.split()[1]) == f"\0someone\0{PASSWORD}".encode()


def test_a_registered_nickname_notice_offers_login() -> None:
    client, _ = make_client()
    client.state.switch_to(1)
    feed_client(client, ":NickServ!NickServ@services NOTICE me :This nickname is registered. "
                        "Log in within 30 seconds (/msg NickServ IDENTIFY password) or you "
                        "will be renamed.")
    hint = client.state.active.lines[-1]
    assert hint.kind is LineKind.INFO
    assert "/login PASSWORD" in hint.text and "me is a registered nickname" in hint.text


def test_register_and_login_say_how_they_are_used() -> None:
    client, wire = make_client()
    client.execute("/login a b c")
    client.execute("/register two words")
    assert wire.commands() == []
    assert [line.text for line in client.state.active.lines][-2:] == [
        "Usage: /login [ACCOUNT] PASSWORD (a password is one word)",
        "A password is one word: /register PASSWORD",
    ]


# -- the password on screen ----------------------------------------------------------


@pytest.mark.parametrize(("line", "start"), [
    ("/login sesame", 7), ("/login ann sesame", 7), ("/register sesame", 10),
    ("/msg NickServ IDENTIFY sesame", 23), ("/msg ns register sesame", 17),
    ("/login", None), ("/msg bob IDENTIFY sesame", None), ("hello /login x", None),
    ("//login x", None), ("/msg NickServ INFO", None),
])
def test_where_the_secret_starts(line: str, start: int | None) -> None:
    assert secret_start(line) == start


def test_the_input_line_masks_the_password_and_the_history_forgets_it() -> None:
    document = Document("/login ann sesame")
    fragments = [("", "/login ann sesame")]
    ti = TransformationInput(buffer_control=None, document=document, lineno=0,  # type: ignore[arg-type]
                             source_to_display=lambda i: i, fragments=fragments,
                             width=80, height=1)
    shown = "".join(text for _, text, *_ in MaskSecrets().apply_transformation(ti).fragments)
    assert shown == "/login **********"
    history = SecretSafeHistory()
    history.append_string("/login ann sesame")
    history.append_string("hello")
    assert list(history.get_strings()) == ["/login ", "hello"]


# -- against a real server -------------------------------------------------------------


@asynccontextmanager
async def connected(port: int, policies: Path, **config: Any) -> AsyncIterator[Client]:
    client = Client(Config(port=port, reconnect_min=0.05, reconnect_max=0.2, **config))
    task = asyncio.create_task(
        Connection(client, random.Random(5), PolicyStore(policies)).run())
    try:
        yield client
    finally:
        client.quit()
        try:
            await asyncio.wait_for(task, TIMEOUT)
        finally:
            task.cancel()


def shown(client: Client) -> list[str]:
    return [line.text for buf in client.state.buffers for line in buf.lines]


async def make_account(host: str, port: int, nick: str) -> None:
    irc = await IrcClient.connect(host, port)
    await irc.send(f"NICK {nick}")
    await irc.send(f"USER {nick} 0 * :{nick}")
    await irc.expect(r" 001 ")
    await irc.send(f"REGISTER * * {PASSWORD}")
    await irc.expect(r" 900 ", timeout=TIMEOUT)
    await irc.send("QUIT")
    await irc.at_eof()
    await irc.close()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki.make(tmp_path / "pki")


@pytest.fixture
def plain_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server offers only PLAIN, as many servers do."""
    monkeypatch.setattr("chat_server.hub.registration.SASL_MECHANISMS", ("PLAIN",))
    yield


async def test_register_then_sasl_scram_then_a_wrong_password_and_login(tmp_path: Path) -> None:
    async with running_server(accounts_login_grace=30) as server:
        port = server.addresses[0][1]
        async with connected(port, tmp_path / "sts.json", nick="ann") as client:
            await until(lambda: client.online, TIMEOUT)
            client.execute(f"/register {PASSWORD}")
            await until(lambda: client.state.account == "ann", TIMEOUT)
        assert not any(PASSWORD in text for text in shown(client))

        async with connected(port, tmp_path / "sts.json", nick="ann", sasl=True,
                             password=PASSWORD) as client:
            await until(lambda: client.online and client.state.account == "ann", TIMEOUT)
            assert "Logging in as ann with SCRAM-SHA-256…" in shown(client)
            assert server.hub.users["ann"].account == "ann"

        async with connected(port, tmp_path / "sts.json", nick="ann", sasl=True,
                             password="not-the-password") as client:
            await until(lambda: client.online, TIMEOUT)
            assert client.state.account is None
            assert any(text.startswith("SASL login as ann failed:") for text in shown(client))
            # NickServ's notice brings the hint, and /login does it.
            await until(lambda: any("/login PASSWORD" in t for t in shown(client)), TIMEOUT)
            client.execute(f"/login {PASSWORD}")
            await until(lambda: client.state.account == "ann", TIMEOUT)
            # Dropped by the server, the client comes back logged in by itself.
            user = server.hub.users["ann"]
            server.hub.disconnect(user, "test")
            await until(lambda: "ann" in server.hub.users
                        and server.hub.users["ann"] is not user
                        and server.hub.users["ann"].account == "ann", TIMEOUT)
            assert not any(PASSWORD in text for text in shown(client))


async def test_plain_over_tls_and_refused_over_plaintext_unless_allowed(
    pki: Pki, tmp_path: Path, plain_only: None,
) -> None:
    policies = tmp_path / "sts.json"
    async with tls_server(pki) as server:
        host, port = server.addresses[0]
        await make_account(host, port, "bea")
        tls_port = server.tls_addresses[0][1]
        config = load(["--nick", "bea", "--sasl", "--password", PASSWORD,
                       "--tls-ca", str(pki.ca_file), f"127.0.0.1:{tls_port}"],
                      {"XDG_CONFIG_HOME": str(tmp_path)})
        async with connected(tls_port, policies, **{
                k: getattr(config, k) for k in ("nick", "sasl", "password", "tls", "tls_ca")
        }) as client:
            await until(lambda: client.online and client.state.account == "bea", TIMEOUT)
            assert "Logging in as bea with PLAIN…" in shown(client)

    # A server without TLS (one with it would move the client there by STS).
    async with running_server() as server:
        host, port = server.addresses[0]
        await make_account(host, port, "bea")
        async with connected(port, policies, nick="bea", sasl=True, password=PASSWORD) as client:
            await until(lambda: client.online, TIMEOUT)
            assert client.state.account is None
            assert server.hub.users["bea"].account == ""
            assert any("only SASL PLAIN" in text for text in shown(client))

        async with connected(port, policies, nick="bea", sasl=True, password=PASSWORD,
                             sasl_plain_without_tls=True) as client:
            await until(lambda: client.online and client.state.account == "bea", TIMEOUT)


# -- the chat-client command in a terminal ------------------------------------------


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    require_tmux()
    term = Tmux(tmp_path)
    yield term
    term.kill()


@pytest.mark.parametrize("simple", [False, True], ids=["full-screen", "simple"])
def test_sasl_asks_for_the_password_at_start_and_a_typed_one_is_never_shown(
    tmux: Tmux, tmp_path: Path, simple: bool,
) -> None:
    server = ServerProcess(tmp_path)
    bob = None
    try:
        make_account_raw(server.port, "ann", PASSWORD)
        argv = [str(BIN / "chat-client"), f"127.0.0.1:{server.port}", "--nick", "ann",
                "--sasl", "--room", "#lobby", *(["--simple"] if simple else [])]
        tmux.start(argv, client_env(tmp_path, "bell = false\n"), width=100, height=30)
        tmux.wait_for("Password for ann:")
        tmux.type(PASSWORD)
        tmux.key("Enter")
        # The status line names the account; simple mode has the line alone.
        tmux.wait_for(lambda s: (simple or "ann (logged in as ann) @" in s)
                      and "You are now logged in as ann" in s)
        bob = RawIrc(server.port, "bob")
        bob.send("WHOIS ann")
        assert bob.expect(r" 330 bob ann ").split()[4] == "ann"

        tmux.type(f"/login ann {PASSWORD}")
        typed = tmux.wait_for("/login " + "*" * len(f"ann {PASSWORD}"))
        assert PASSWORD not in typed
        tmux.key("Enter")
        # Simple mode's transcript keeps the line as it was drawn: masked.
        assert PASSWORD not in tmux.wait_for("Logging in as ann…")
        tmux.key("Up")
        recalled = tmux.wait_for(lambda s: s.rstrip().endswith("#lobby> /login"))
        assert PASSWORD not in recalled
        tmux.key("C-u")
        tmux.type("/quit")
        tmux.key("Enter")
        tmux.wait_for("EXITED 0")
    finally:
        if bob is not None:
            bob.close()
        server.stop()
