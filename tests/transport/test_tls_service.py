"""The TLS port of a real chat-server process (on uvloop): a certificate renewed under
SIGHUP, refused pairs at start and at reload, and bad input that leaves no traceback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.irc import IrcClient
from support.service import Service, clean_env, run_cli
from support.tls import OpensslUser, Pki, tls_client

TLS_PORT = re.compile(r"TLS port [\d.]+:(\d+)")


def write_config(root: Path, pki: Pki) -> Path:
    config = root / "roomchat.toml"
    config.write_text(
        f'[store]\nbackend = "memory"\n'
        f'[tls]\ncert = "{pki.cert}"\nkey = "{pki.key}"\nport = 0\n'
    )
    return config


@contextlib.asynccontextmanager
async def service_with_tls(tmp_path: Path, pki: Pki) -> AsyncIterator[tuple[Service, int]]:
    env = clean_env(tmp_path)
    service = await Service.start("--config", str(write_config(tmp_path, pki)), env=env)
    try:
        found = await service.expect_log(TLS_PORT.pattern)
        yield service, int(found.group(1))
    finally:
        await service.close()


def renew(live: Pki, new: Pki) -> None:
    """What certbot does: new files at the same paths."""
    shutil.copyfile(new.cert, live.cert)
    shutil.copyfile(new.key, live.key)


async def test_sighup_with_a_new_certificate_keeps_clients_and_serves_it_to_new_ones(
    tmp_path: Path,
) -> None:
    first = Pki.make(tmp_path / "first")
    second = Pki.make(tmp_path / "second")
    async with service_with_tls(tmp_path, first) as (service, port):
        old = await tls_client(port, first.client_context())
        try:
            await old.register("old")
            renew(first, second)
            service.proc.send_signal(signal.SIGHUP)
            await service.expect_log(r"reload: TLS certificate loaded from ")

            # The open connection is untouched ...
            await old.send("PING :still-here")
            await old.expect(r" PONG \S+ :?still-here$")
            # ... and a new one is handed the new certificate.
            new = await tls_client(port, second.client_context())
            await new.register("new")
            await old.send("PRIVMSG new :hello across certificates")
            await new.expect(r":old!\S+ PRIVMSG new :hello across certificates")
            await new.close()
            with pytest.raises(ssl.SSLCertVerificationError):
                await tls_client(port, first.client_context())

            # A key that does not match is refused; the running certificate stays.
            third = Pki.make(tmp_path / "third")
            shutil.copyfile(third.key, first.key)
            service.proc.send_signal(signal.SIGHUP)
            refused = await service.expect_log(r"TLS certificate refused")
            assert "keeping the one in use" in refused.string
            again = await tls_client(port, second.client_context())
            await again.register("again")
            await again.close()
            await old.send("PING :after-refusal")
            await old.expect(r" PONG \S+ :?after-refusal$")
        finally:
            await old.close()
    assert "Traceback" not in "".join(service.log)


async def test_over_tls_both_dialects_chat_with_plaintext_and_bad_input_leaves_no_traceback(
    tmp_path: Path,
) -> None:
    pki = Pki.make(tmp_path / "pki")
    async with service_with_tls(tmp_path, pki) as (service, port):
        carol = await IrcClient.connect("127.0.0.1", service.port)
        alice = await tls_client(port, pki.client_context())
        bob = await OpensslUser.connect(port)
        try:
            await carol.register("carol")
            await carol.join("#lobby")
            await alice.register("alice")
            await alice.join("#lobby")
            await bob.read_until("Pick a nickname")
            await bob.type("bob")
            await bob.read_until("Welcome, bob")
            await bob.type("hi from openssl")
            await carol.expect(r":bob!\S+ PRIVMSG #lobby :hi from openssl")
            await alice.expect(r":bob!\S+ PRIVMSG #lobby :hi from openssl")
            await carol.send("PRIVMSG #lobby :hi from plaintext")
            await bob.read_until("<carol> hi from plaintext")

            for junk in (b"NICK x\r\nUSER x 0 * :x\r\n", os.urandom(512)):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(junk)
                with contextlib.suppress(ConnectionResetError):
                    async with asyncio.timeout(5):
                        await reader.read()
                writer.close()
            await alice.send("PRIVMSG #lobby :still up")
            await carol.expect(r":alice!\S+ PRIVMSG #lobby :still up")
        finally:
            await bob.close()
            await alice.close()
            await carol.close()
    log = "".join(service.log)
    assert "Traceback" not in log
    assert "reason=TLS handshake failed" in log


@pytest.mark.parametrize("problem", ["mismatched", "missing"])
def test_an_unusable_certificate_at_start_is_one_line_and_exit_1(
    tmp_path: Path, problem: str
) -> None:
    pki = Pki.make(tmp_path / "pki")
    if problem == "mismatched":
        shutil.copyfile(Pki.make(tmp_path / "other").key, pki.key)
        expected = (f"chat-server: TLS: certificate {pki.cert} and key {pki.key} cannot be "
                    "used together: ")
    else:
        pki.key.unlink()
        expected = f"chat-server: TLS: cannot read {pki.key}: No such file or directory"
    result = run_cli("--config", str(write_config(tmp_path, pki)), env=clean_env(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(expected), result.stderr
    assert result.stderr.count("\n") == 1
