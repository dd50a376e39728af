"""chat-client over TLS against a real server: --tls-ca, an untrusted certificate said in
one line, and STS (upgrading to the advertised port, remembering it per host)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from client.clienthelpers import until
from support.tls import Pki, tls_server

from chat_client.client import Client
from chat_client.config import Config as ClientConfig
from chat_client.config import ConfigError, load
from chat_client.net import Connection
from chat_client.state import ConnState, LineKind
from chat_client.sts import PolicyStore, parse
from chat_server.app import ChatServer


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki.make(tmp_path / "pki")


@contextlib.asynccontextmanager
async def running(client: Client, policies: PolicyStore) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(Connection(client, random.Random(1), policies).run())
    try:
        yield task
    finally:
        client.quit()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, 2.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def secure_users(server: ChatServer) -> list[tuple[str, bool]]:
    return sorted((u.nick, u.secure) for u in server.hub.users.values())


async def test_tls_with_a_private_ca_connects_and_registers(pki: Pki, tmp_path: Path) -> None:
    async with tls_server(pki) as server:
        port = server.tls_addresses[0][1]
        config = load(["--nick", "ann", "--tls-ca", str(pki.ca_file), f"127.0.0.1:{port}"], {})
        assert config.tls and config.tls_verify
        client = Client(config)
        async with running(client, PolicyStore(tmp_path / "sts.json")):
            await until(lambda: client.state.conn is ConnState.CONNECTED)
            await until(lambda: secure_users(server) == [("ann", True)])


async def test_an_untrusted_certificate_is_one_line_and_no_retrying(
    pki: Pki, tmp_path: Path
) -> None:
    other = Pki.make(tmp_path / "other")
    async with tls_server(pki) as server:
        port = server.tls_addresses[0][1]
        client = Client(ClientConfig(nick="ann", port=port, tls=True, tls_ca=str(other.ca_file),
                                     reconnect_min=0.01, reconnect_max=0.02))
        task = asyncio.create_task(
            Connection(client, random.Random(1), PolicyStore(tmp_path / "sts.json")).run())
        await asyncio.wait_for(task, 5.0)  # gave up by itself: retrying cannot help
        errors = [line.text for line in client.state.server_buffer.lines
                  if line.kind is LineKind.ERROR]
        assert len(errors) == 1, errors
        assert errors[0] == (f"TLS certificate of 127.0.0.1:{port} is not trusted by "
                             f"{other.ca_file}: unable to get local issuer certificate")
        assert client.state.conn is ConnState.DISCONNECTED
        assert not server.hub.users


async def test_sts_moves_a_plaintext_client_to_tls_and_is_remembered_for_the_host(
    pki: Pki, tmp_path: Path
) -> None:
    async with tls_server(pki) as server:
        server.hub.settings.sts_duration = 300
        plain_port = server.addresses[0][1]
        tls_port = server.tls_addresses[0][1]
        store_path = tmp_path / "state" / "roomchat" / "sts.json"
        config = ClientConfig(nick="ann", port=plain_port, tls_ca=str(pki.ca_file))
        client = Client(config)
        async with running(client, PolicyStore(store_path)):
            await until(lambda: secure_users(server) == [("ann", True)])
            # The server registers her before her client has read its welcome.
            await until(lambda: client.state.conn is ConnState.CONNECTED)
            await until(store_path.exists)
        saved = json.loads(store_path.read_text())
        assert saved["127.0.0.1"]["port"] == tls_port
        assert saved["127.0.0.1"]["duration"] == 300

        # A later start, told only of the plaintext port, goes straight to TLS.
        server.hub.settings.sts_port = 0  # the server no longer says it
        listener = server.listener
        assert listener is not None
        plaintext_before = listener.accepted["tcp"]
        again = Client(ClientConfig(nick="bea", port=plain_port, tls_ca=str(pki.ca_file)))
        async with running(again, PolicyStore(store_path)):
            await until(lambda: ("bea", True) in secure_users(server))
        assert listener.accepted["tcp"] == plaintext_before


def test_policies_expire_and_duration_zero_removes_them(tmp_path: Path) -> None:
    now = [1000.0]
    store = PolicyStore(tmp_path / "sts.json", clock=lambda: now[0])
    assert store.seen("Chat.Example.org", 6697, 60)
    store.save()
    reread = PolicyStore(tmp_path / "sts.json", clock=lambda: now[0])
    policy = reread.get("chat.example.org")
    assert policy is not None and policy.port == 6697
    now[0] += 61
    assert reread.get("chat.example.org") is None
    assert reread.reschedule("chat.example.org")  # a connection just ended: 60 s again
    assert reread.get("chat.example.org") is not None
    assert reread.seen("chat.example.org", 6697, 0)
    assert reread.get("chat.example.org") is None
    assert parse("port=6697,duration=300,preload") == {
        "port": "6697", "duration": "300", "preload": ""}


def test_tls_flags(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    config = load(["--tls-ca", str(ca), "example.org"], {})
    assert (config.tls, config.tls_ca, config.port) == (True, str(ca), 6697)
    insecure = load(["--tls-insecure", "example.org"], {})
    assert (insecure.tls, insecure.tls_verify) == (True, False)
    with pytest.raises(ConfigError, match=r"--tls-ca .*nope\.pem: no such file"):
        load(["--tls-ca", str(tmp_path / "nope.pem")], {})
