"""The TLS port: both dialects over TLS in the same rooms as plaintext users, the same
limits, client certificate fingerprints in WHOIS, and bad input closed quietly in time."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
from support.irc import IrcClient
from support.servers import wait_until
from support.tls import OpensslUser, Pki, tls_client, tls_server

from chat_server.app import ChatServer


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki.make(tmp_path / "pki")


def tls_port(server: ChatServer) -> int:
    return server.tls_addresses[0][1]


async def test_irc_and_plain_over_tls_chat_with_plaintext_users_in_one_room(pki: Pki) -> None:
    async with tls_server(pki) as server:
        host, port = server.addresses[0]
        carol = await IrcClient.connect(host, port)  # plaintext IRC
        alice = await tls_client(tls_port(server), pki.client_context())  # IRC over TLS
        bob = await OpensslUser.connect(tls_port(server))  # netcat-style over TLS
        try:
            await carol.register("carol")
            await carol.join("#lobby")
            await alice.register("alice")
            await alice.join("#lobby")
            await bob.read_until("Pick a nickname")
            await bob.type("bob")
            await bob.read_until("Welcome, bob")
            await alice.expect(r":bob!\S+ JOIN :?#lobby")

            await alice.send("PRIVMSG #lobby :hello from tls")
            await bob.read_until("<alice> hello from tls")
            await carol.expect(r":alice!\S+ PRIVMSG #lobby :hello from tls")

            await bob.type("and from openssl")
            await alice.expect(r":bob!\S+ PRIVMSG #lobby :and from openssl")
            await carol.expect(r":bob!\S+ PRIVMSG #lobby :and from openssl")

            await carol.send("PRIVMSG #lobby :plaintext here")
            await alice.expect(r":carol!\S+ PRIVMSG #lobby :plaintext here")
            await bob.read_until("<carol> plaintext here")

            # WHOIS tells who is on TLS; the plaintext user is not.
            await carol.send("WHOIS alice")
            await carol.expect(r" 671 carol alice :is using a secure connection")
            await alice.send("WHOIS carol")
            end = await alice.expect(r" 318 ")
            assert end.param(1) == "carol"
            assert not any(" 671 " in line for line in alice.seen)
        finally:
            await bob.close()
            await alice.close()
            await carol.close()


async def test_a_client_certificate_fingerprint_is_shown_to_its_owner_only(pki: Pki) -> None:
    client_ca = Pki.make(pki.root / "clients", "client")
    person = client_ca.ca.issue_cert("alice@example.org")
    async with tls_server(pki) as server:
        # Ask for client certificates signed by the clients' CA (the server reads it now).
        assert server.tls is not None
        server.tls.reload(str(pki.cert), str(pki.key), str(client_ca.ca_file))
        context = pki.client_context()
        person.configure_cert(context)
        alice = await tls_client(tls_port(server), context)
        bob = await tls_client(tls_port(server), pki.client_context())
        try:
            await alice.register("alice")
            await bob.register("bob")
            der = ssl.PEM_cert_to_DER_cert(person.cert_chain_pems[0].bytes().decode())
            expected = hashlib.sha256(der).hexdigest()
            await alice.send("WHOIS alice")
            await alice.expect(rf" 276 alice alice :has client certificate fingerprint {expected}$")
            await bob.send("WHOIS alice")
            await bob.expect(r" 318 bob alice ")
            assert not any(" 276 " in line for line in bob.seen)
            # Without a certificate, nothing to show.
            await bob.send("WHOIS bob")
            await bob.expect(r" 318 bob bob ")
            assert not any(" 276 " in line for line in bob.seen)
        finally:
            await alice.close()
            await bob.close()


async def test_tls_connections_share_the_plaintext_per_address_limit(pki: Pki) -> None:
    async with tls_server(pki, max_connections_per_ip=2) as server:
        host, port = server.addresses[0]
        plain = await IrcClient.connect(host, port)
        secure = await tls_client(tls_port(server), pki.client_context())
        refused = await tls_client(tls_port(server), pki.client_context())
        try:
            await plain.register("plain")
            await secure.register("secure")
            assert await refused.at_eof() == [
                "ERROR :Closing Link: 127.0.0.1 (Too many connections from your address)"
            ]
        finally:
            for client in (plain, secure, refused):
                await client.close()


async def test_a_plaintext_client_on_the_tls_port_is_told_in_plain_text(pki: Pki) -> None:
    async with tls_server(pki) as server:
        forgot = await IrcClient.connect("127.0.0.1", tls_port(server))
        try:
            await forgot.send("NICK bob")
            assert await forgot.at_eof() == [
                "ERROR :Closing Link: 127.0.0.1 (This port is for TLS: connect with TLS)"
            ]
        finally:
            await forgot.close()


async def open_raw(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sent before it closed, which must happen in `seconds`."""
    async with asyncio.timeout(seconds):
        return await reader.read()


@pytest.mark.parametrize("send", [
    b"NICK bob\r\nUSER bob 0 * :Bob\r\n",  # an IRC client that forgot --tls
    bytes(range(256)) * 4,  # garbage
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a ClientHello cut short
    b"",  # nothing at all: stalls before the handshake
])
async def test_bad_input_on_the_tls_port_is_closed_quietly_within_the_registration_timeout(
    pki: Pki, send: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with tls_server(pki, registration_timeout=0.5) as server:
        listener = server.listener
        assert listener is not None
        reader, writer = await open_raw(tls_port(server))
        try:
            if send:
                writer.write(send)
                await writer.drain()
            with contextlib.suppress(ConnectionResetError):
                await closed_within(reader, 3.0)
        finally:
            writer.close()
        await wait_until(lambda: not listener.connections)
        # A plaintext user on the other port is not disturbed.
        host, port = server.addresses[0]
        carol = await IrcClient.connect(host, port)
        await carol.register("carol")
        await carol.close()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_client_that_stalls_mid_handshake_is_dropped_at_the_registration_timeout(
    pki: Pki,
) -> None:
    async with tls_server(pki, registration_timeout=0.5) as server:
        listener = server.listener
        assert listener is not None
        reader, writer = await open_raw(tls_port(server))
        # The first bytes of a real ClientHello, then nothing.
        hello = ssl.MemoryBIO(), ssl.MemoryBIO()
        client = pki.client_context().wrap_bio(*hello, server_hostname="127.0.0.1")
        with contextlib.suppress(ssl.SSLWantReadError):
            client.do_handshake()
        writer.write(hello[1].read()[:40])
        await writer.drain()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with contextlib.suppress(ConnectionResetError):
            await closed_within(reader, 3.0)
        assert loop.time() - started < 2.0
        writer.close()
        await wait_until(lambda: not listener.connections)


async def test_sts_sends_plaintext_clients_to_the_tls_port_and_tls_clients_a_duration(
    pki: Pki,
) -> None:
    async with tls_server(pki) as server:
        server.config.tls.sts_duration = 0
        host, port = server.addresses[0]
        plain = await IrcClient.connect(host, port)
        secure = await tls_client(tls_port(server), pki.client_context())
        old = await IrcClient.connect(host, port)
        try:
            await plain.send("CAP LS 302")
            ls = await plain.expect(r" CAP \* LS ")
            assert f"sts=port={tls_port(server)}" in ls.params[-1].split()
            # "Clients MUST NOT request this capability": it is refused.
            await plain.send("CAP REQ sts")
            await plain.expect(r" CAP \* NAK :?sts$")

            server.hub.settings.sts_duration = 2592000
            await secure.send("CAP LS 302")
            ls = await secure.expect(r" CAP \* LS ")
            assert "sts=duration=2592000" in ls.params[-1].split()

            # Values are for CAP 302 clients only.
            await old.send("CAP LS")
            ls = await old.expect(r" CAP \* LS ")
            assert not any(cap.startswith("sts") for cap in ls.params[-1].split())
        finally:
            for client in (plain, secure, old):
                await client.close()


async def test_without_a_certificate_there_is_no_tls_port_and_no_sts(connect: Any) -> None:
    client = await connect()
    await client.send("CAP LS 302")
    ls = await client.expect(r" CAP \* LS ")
    assert not any(cap.startswith("sts") for cap in ls.params[-1].split())
