"""SASL login over real sockets (IRCv3 sasl-3.1/3.2): PLAIN, SCRAM-SHA-256 with a
scramp client, EXTERNAL with a TLS client certificate; the 90x numerics for every kind
of bad input, with the connection still usable after each; registration waiting for
SASL or aborting it; and no password in the server's log."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from scramp import ScramClient
from support.clients import clients_of
from support.irc import ClientFactory, IrcClient
from support.servers import ServerProcess, running_server
from support.tls import Pki, tls_client, tls_server

from chat_server.app import ChatServer
from chat_server.protocol.message import Message
from chat_server.protocol.sasl import encode_plain, encode_response

PASSWORD = "correct-horse-battery"


async def make_account(port: int, name: str, password: str = PASSWORD,
                       certfp: str = "") -> None:
    """An account made with NickServ REGISTER (and CERT ADD), by someone who then leaves."""
    client = await IrcClient.connect("127.0.0.1", port)
    try:
        await client.register(name)
        await client.send(f"PRIVMSG NickServ :REGISTER {password}")
        await client.expect(rf" 900 {name} \S+ {name} ", timeout=20)
        if certfp:
            await client.send(f"PRIVMSG NickServ :CERT ADD {certfp}")
            await client.expect(rf"NOTICE {name} :Certificate {certfp} now logs in")
        await client.send("QUIT")
        await client.at_eof()
    finally:
        await client.close()


def port_of(server: ChatServer) -> int:
    return server.addresses[0][1]


@pytest.fixture
async def alice_server() -> AsyncIterator[ChatServer]:
    async with running_server() as server:
        await make_account(port_of(server), "alice")
        yield server


@pytest.fixture
async def connect(alice_server: ChatServer) -> AsyncIterator[ClientFactory]:
    async with clients_of(alice_server) as factory:
        yield factory


async def negotiating(client: IrcClient, nick: str = "alice") -> IrcClient:
    """CAP LS 302, sasl acknowledged, NICK and USER sent: registration waits for CAP END."""
    await client.send("CAP LS 302")
    await client.expect(r" CAP \* LS .*sasl=PLAIN,EXTERNAL,SCRAM-SHA-256")
    await client.send("CAP REQ :sasl account-tag")
    await client.expect(r" CAP \S+ ACK ")
    await client.send(f"NICK {nick}")
    await client.send(f"USER {nick} 0 * :{nick}")
    return client


def is_authenticate(m: Message) -> bool:
    return m.command == "AUTHENTICATE"


async def send_response(client: IrcClient, data: bytes) -> None:
    for chunk in encode_response(data):
        await client.send(f"AUTHENTICATE {chunk}")


async def read_challenge(client: IrcClient) -> bytes:
    """One server challenge, put together from its AUTHENTICATE chunks."""
    parts: list[str] = []
    while True:
        chunk = (await client.expect(is_authenticate)).params[0]
        if chunk != "+":
            parts.append(chunk)
        if len(chunk) < 400:
            return base64.b64decode("".join(parts))


async def plain(client: IrcClient, name: str, password: str, authzid: str = "") -> None:
    await client.send("AUTHENTICATE PLAIN")
    assert await read_challenge(client) == b""
    await send_response(client, encode_plain(name, password, authzid))


async def logged_in(client: IrcClient, account: str = "alice") -> None:
    loggedin = await client.expect(r" (900|90[4-8]) ")
    assert loggedin.command == "900", loggedin
    assert loggedin.params[2] == account
    assert loggedin.params[1].endswith("@127.0.0.1")
    await client.expect(r" 903 \S+ :SASL authentication successful")


async def refused(client: IrcClient, numeric: str = "904") -> Message:
    answer = await client.expect(r" 90[0-8] ")
    assert answer.command == numeric, answer
    return answer


async def says_account(connect: ClientFactory, speaker: IrcClient, account: str | None) -> None:
    """What others notice of a login: the account tag on what the speaker says."""
    listener = await connect("bob", ("account-tag", "message-tags"))
    await listener.join("#room")
    await speaker.join("#room")
    await speaker.send("PRIVMSG #room :hello")
    said = await listener.expect(r"PRIVMSG #room :?hello$")
    assert said.tags.get("account") == account


async def test_plain_login_then_cap_end_registers_logged_in(connect: ClientFactory) -> None:
    alice = await negotiating(await connect())
    await plain(alice, "alice", PASSWORD)
    await logged_in(alice)
    assert not any(" 001 " in line for line in alice.seen)
    await alice.send("CAP END")
    await alice.expect(r" 001 alice ")
    await alice.expect(r" (376|422) ")
    await says_account(connect, alice, "alice")


async def test_plain_burst_with_cap_end_waits_for_the_password_check(
    connect: ClientFactory,
) -> None:
    # gamja and goguma send all of it at once: CAP END must wait for the answer.
    alice = await negotiating(await connect())
    await alice.send("AUTHENTICATE PLAIN")
    await alice.send("AUTHENTICATE " + encode_response(encode_plain("alice", PASSWORD))[0])
    await alice.send("CAP END")
    await logged_in(alice)
    await alice.expect(r" 001 alice ")  # after 903: expect() reads in order
    await says_account(connect, alice, "alice")


async def test_scram_sha_256_login_with_a_scramp_client(connect: ClientFactory) -> None:
    alice = await negotiating(await connect())
    scram = ScramClient(["SCRAM-SHA-256"], "alice", PASSWORD)
    await alice.send("AUTHENTICATE SCRAM-SHA-256")
    assert await read_challenge(alice) == b""
    await send_response(alice, scram.get_client_first().encode())
    scram.set_server_first((await read_challenge(alice)).decode())
    await send_response(alice, scram.get_client_final().encode())
    # The server proves it knows the credentials too; scramp checks its signature.
    scram.set_server_final((await read_challenge(alice)).decode())
    assert not any(" 900 " in line for line in alice.seen)
    await alice.send("AUTHENTICATE +")
    await logged_in(alice)
    await alice.send("CAP END")
    await alice.expect(r" 001 alice ")
    await says_account(connect, alice, "alice")


async def scram_attempt(client: IrcClient, name: str, password: str) -> Message:
    """A SCRAM exchange up to the server's verdict on the proof (or earlier refusal)."""
    scram = ScramClient(["SCRAM-SHA-256"], name, password)
    await client.send("AUTHENTICATE SCRAM-SHA-256")
    await client.expect(is_authenticate)
    await send_response(client, scram.get_client_first().encode())
    answer = await client.expect(lambda m: m.command in ("AUTHENTICATE", "904"))
    if answer.command == "904":
        return answer
    scram.set_server_first(base64.b64decode(answer.params[0]).decode())
    await send_response(client, scram.get_client_final().encode())
    answer = await client.expect(lambda m: m.command in ("AUTHENTICATE", "904"))
    if answer.command == "AUTHENTICATE":
        scram.set_server_final(base64.b64decode(answer.params[0]).decode())
        await client.send("AUTHENTICATE +")
        answer = await client.expect(r" 90[0-8] ")
    return answer


async def test_scram_with_a_wrong_password_or_an_unknown_name_fails_alike(
    connect: ClientFactory,
) -> None:
    alice = await negotiating(await connect())
    wrong = await scram_attempt(alice, "alice", "not the password")
    assert wrong.command == "904"
    unknown = await scram_attempt(alice, "nobody", "not the password")
    assert unknown.command == "904"
    assert wrong.params[-1] == unknown.params[-1]
    assert (await scram_attempt(alice, "alice", PASSWORD)).command == "900"


async def test_a_wrong_password_fails_and_the_right_one_works_after(
    connect: ClientFactory,
) -> None:
    alice = await negotiating(await connect())
    await plain(alice, "alice", "wrong password")
    failed = await refused(alice)
    assert failed.params[-1] == "SASL authentication failed: Invalid account credentials"
    await plain(alice, "nobody", PASSWORD)
    await refused(alice)
    await plain(alice, "alice", PASSWORD)
    await logged_in(alice)


async def test_unknown_mechanism_lists_the_mechanisms_then_fails(connect: ClientFactory) -> None:
    alice = await negotiating(await connect())
    await alice.send("AUTHENTICATE DIGEST-MD5")
    mechs = await alice.expect(r" 908 ")
    assert mechs.params[1] == "PLAIN,EXTERNAL,SCRAM-SHA-256"
    await refused(alice)
    await plain(alice, "alice", PASSWORD)
    await logged_in(alice)


@pytest.mark.parametrize("response", [
    "not*base64", "YWxpY2U", "é" * 10,
    base64.b64encode(b"alice\0alice").decode(),  # no password field
    base64.b64encode(b"\0alice\0pw\0more").decode(),
    base64.b64encode(b"\0alice\0\xff\xfe").decode(),  # not UTF-8
    base64.b64encode(b"bob\0alice\0" + PASSWORD.encode()).decode(),  # authzid not authcid
])
async def test_malformed_responses_fail_and_the_connection_stays_usable(
    connect: ClientFactory, response: str,
) -> None:
    alice = await negotiating(await connect())
    await alice.send("AUTHENTICATE PLAIN")
    await alice.expect(is_authenticate)
    await alice.send(f"AUTHENTICATE {response}")
    await refused(alice)
    await plain(alice, "alice", PASSWORD)
    await logged_in(alice)


async def test_a_chunk_over_400_bytes_is_905_and_a_response_over_the_limit_904() -> None:
    async with running_server(accounts_sasl_max_bytes=1000) as server:
        await make_account(port_of(server), "alice")
        async with clients_of(server) as connect:
            alice = await negotiating(await connect())
            await alice.send("AUTHENTICATE PLAIN")
            await alice.expect(is_authenticate)
            await alice.send("AUTHENTICATE " + "A" * 401)
            await refused(alice, "905")
            # Full chunks without end: refused once past the limit (the third), not kept.
            await alice.send("AUTHENTICATE PLAIN")
            await alice.expect(is_authenticate)
            mark = len(alice.seen)
            for _ in range(2):
                await alice.send("AUTHENTICATE " + "A" * 400)
            await alice.send("PING still-listening")
            await alice.expect(r" PONG \S+ :?still-listening")
            assert not any(" 90" in line for line in alice.seen[mark:])
            await alice.send("AUTHENTICATE " + "A" * 400)
            await refused(alice, "904")
            await plain(alice, "alice", PASSWORD)
            await logged_in(alice)


@pytest.mark.parametrize("authzid", ["", "carla"])
async def test_a_response_of_several_chunks_logs_in(alice_server: ChatServer,
                                                   authzid: str) -> None:
    # "\0carla\0" and a 293-character password: 300 bytes, exactly one full chunk,
    # ended by "+"; with an authzid it runs into a second, short chunk.
    long_password = "p" * 293
    await make_account(port_of(alice_server), "carla", long_password)
    data = encode_plain("carla", long_password, authzid and "carla")
    chunks = encode_response(data)
    assert [len(c) for c in chunks] == ([400, 1] if not authzid else [400, 8])
    async with clients_of(alice_server) as connect:
        alice = await negotiating(await connect())
        await alice.send("AUTHENTICATE PLAIN")
        await alice.expect(is_authenticate)
        await alice.send(f"AUTHENTICATE {chunks[0]}")
        await alice.send("PING between-chunks")
        await alice.expect(r" PONG \S+ :?between-chunks")
        assert not any(" 90" in line for line in alice.seen)
        await alice.send(f"AUTHENTICATE {chunks[1]}")
        await logged_in(alice, "carla")


async def test_abort_is_906_and_a_new_exchange_works(connect: ClientFactory) -> None:
    alice = await negotiating(await connect())
    await alice.send("AUTHENTICATE PLAIN")
    await alice.expect(is_authenticate)
    await alice.send("AUTHENTICATE *")
    await refused(alice, "906")
    await plain(alice, "alice", PASSWORD)
    await logged_in(alice)


async def test_a_second_login_is_907_before_and_after_registration(
    connect: ClientFactory,
) -> None:
    alice = await negotiating(await connect())
    await plain(alice, "alice", PASSWORD)
    await logged_in(alice)
    await alice.send("AUTHENTICATE PLAIN")
    await refused(alice, "907")
    await alice.send("CAP END")
    await alice.expect(r" 001 alice ")
    await alice.send("AUTHENTICATE SCRAM-SHA-256")
    await refused(alice, "907")


async def test_cap_end_in_the_middle_of_an_exchange_aborts_it_and_registers(
    connect: ClientFactory,
) -> None:
    alice = await negotiating(await connect())
    await alice.send("AUTHENTICATE PLAIN")
    await alice.expect(is_authenticate)
    await alice.send("CAP END")
    await refused(alice, "906")
    await alice.expect(r" 001 alice ")
    # The exchange is gone: what would have been its response is a new mechanism.
    await alice.send("AUTHENTICATE " + encode_response(encode_plain("alice", PASSWORD))[0])
    await alice.expect(r" 908 ")
    await says_account(connect, alice, None)


async def test_a_registered_person_not_logged_in_may_log_in(connect: ClientFactory) -> None:
    carol = await connect("carol", ("sasl",))
    await plain(carol, "alice", PASSWORD)
    await logged_in(carol)
    await says_account(connect, carol, "alice")


# -- EXTERNAL ---------------------------------------------------------------------


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki.make(tmp_path / "pki")


async def test_external_logs_in_by_client_certificate(pki: Pki) -> None:
    client_ca = Pki.make(pki.root / "clients", "client")
    person = client_ca.ca.issue_cert("alice@example.org")
    der = ssl.PEM_cert_to_DER_cert(person.cert_chain_pems[0].bytes().decode())
    fingerprint = hashlib.sha256(der).hexdigest()
    async with tls_server(pki) as server:
        assert server.tls is not None
        server.tls.reload(str(pki.cert), str(pki.key), str(client_ca.ca_file))
        await make_account(port_of(server), "alice", certfp=fingerprint)
        await make_account(port_of(server), "bob")
        port = server.tls_addresses[0][1]
        with_cert = pki.client_context()
        person.configure_cert(with_cert)
        opened: list[IrcClient] = []
        try:
            # Without an authorization identity: the account whose certificate it is.
            alice = await negotiating(await tls_client(port, with_cert))
            opened.append(alice)
            await alice.send("AUTHENTICATE EXTERNAL")
            await alice.expect(is_authenticate)
            await alice.send("AUTHENTICATE +")
            await logged_in(alice)
            # With one: that account, if the certificate is one of its.
            named = await negotiating(await tls_client(port, with_cert), "alice2")
            opened.append(named)
            await named.send("AUTHENTICATE EXTERNAL")
            await named.expect(is_authenticate)
            await send_response(named, b"bob")
            await refused(named)
            await named.send("AUTHENTICATE EXTERNAL")
            await named.expect(is_authenticate)
            await send_response(named, b"alice")
            await logged_in(named)
            # No certificate, no login.
            bare = await negotiating(await tls_client(port, pki.client_context()), "bare")
            opened.append(bare)
            await bare.send("AUTHENTICATE EXTERNAL")
            await bare.expect(is_authenticate)
            await bare.send("AUTHENTICATE +")
            assert "certificate" in (await refused(bare)).params[-1]
            await plain(bare, "bob", PASSWORD)
            await logged_in(bare, "bob")
        finally:
            for client in opened:
                await client.close()


# -- brute force ------------------------------------------------------------------


async def test_failed_scram_proofs_are_throttled_and_the_right_one_works_after_the_delay(
) -> None:
    async with running_server(accounts_login_attempts=2, accounts_login_delay=0.5) as server:
        await make_account(port_of(server), "alice")
        async with clients_of(server) as connect:
            alice = await negotiating(await connect())
            for _ in range(2):
                assert (await scram_attempt(alice, "alice", "wrong")).command == "904"
            throttled = await scram_attempt(alice, "alice", PASSWORD)
            assert "Too many failed logins" in throttled.params[-1]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5
            while (answer := await scram_attempt(alice, "alice", PASSWORD)).command != "900":
                assert "Too many failed logins" in answer.params[-1]
                assert loop.time() < deadline, "still throttled"
            await alice.expect(r" 903 ")


# -- logs -------------------------------------------------------------------------


SECRET = "Sesame-Secret-Passphrase-42"
WRONG = "Wrong-Passphrase-7731"


def secret_forms() -> list[str]:
    """The passwords as they could leak: as typed, and inside a base64 PLAIN response."""
    forms = [SECRET, WRONG]
    for name in ("alice", "nobody"):
        for password in (SECRET, WRONG):
            forms += encode_response(encode_plain(name, password))
    return forms


async def test_no_password_reaches_the_server_log_of_a_real_process() -> None:
    server = ServerProcess(["--log-level", "DEBUG"])
    try:
        await make_account(server.port, "alice", SECRET)
        client = await IrcClient.connect("127.0.0.1", server.port)
        await negotiating(client, "nobody")
        for name, password in (("nobody", SECRET), ("alice", WRONG)):
            await plain(client, name, password)
            await refused(client)
            assert (await scram_attempt(client, name, password)).command == "904"
        await plain(client, "alice", SECRET)
        await logged_in(client)
        other = await negotiating(await IrcClient.connect("127.0.0.1", server.port), "other")
        assert (await scram_attempt(other, "alice", SECRET)).command == "900"
        for each in (client, other):
            await each.send("QUIT")
            await each.at_eof()
            await each.close()
        server.proc.terminate()
        log = await asyncio.to_thread(server.rest_of_log, 15)
    finally:
        server.stop()
    # A name that is no account is not logged (it may be a password typed there).
    assert "failed login to an unknown account from" in log
    assert "account 'nobody'" not in log
    assert "failed login to account 'alice'" in log
    for form in secret_forms():
        assert form not in log, form
