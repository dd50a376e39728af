"""A real chat-server process: graceful shutdown on signals, and what its log says."""

from __future__ import annotations

import re
import signal

import pytest
from support.irc import IrcClient
from support.servers import ServerProcess


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
async def test_a_signal_tells_every_client_why_then_the_server_exits_0(
    sig: signal.Signals,
) -> None:
    proc = ServerProcess([])
    try:
        alice = await IrcClient.connect("127.0.0.1", proc.port)
        bob = await IrcClient.connect("127.0.0.1", proc.port)
        unregistered = await IrcClient.connect("127.0.0.1", proc.port)
        await alice.register("alice")
        await bob.register("bob")
        await alice.join("#room")
        await bob.join("#room")
        await unregistered.send("PING :here")
        await unregistered.expect(r" PONG ")

        proc.proc.send_signal(sig)
        for client in (alice, bob, unregistered):
            rest = await client.at_eof()
            assert rest[-1] == "ERROR :Closing Link: 127.0.0.1 (Server shutting down)"
            # A shutdown is not a QUIT: nobody is told others quit one by one.
            assert not any(" QUIT " in line for line in rest)
            await client.close()
        log = proc.rest_of_log()
        assert proc.proc.returncode == 0
        assert f"shutting down on {sig.name}" in log
        assert len(re.findall(r"disconnect \S+ .*reason=Server shutting down", log)) == 3
    finally:
        proc.stop()


async def test_connects_and_disconnects_are_logged_with_the_reason() -> None:
    # Long enough for the others to register on a loaded machine; the silent client,
    # connected first (and greeted as a netcat user after a second), is dropped while
    # they chat.
    proc = ServerProcess([], env={"ROOMCHAT_LIMITS_REGISTRATION_TIMEOUT": "2"})
    try:
        silent = await IrcClient.connect("127.0.0.1", proc.port)
        quitter = await IrcClient.connect("127.0.0.1", proc.port)
        await quitter.register("quitter")
        await quitter.send("QUIT :my private words")
        await quitter.at_eof()
        await quitter.close()
        vanisher = await IrcClient.connect("127.0.0.1", proc.port)
        await vanisher.register("vanisher")
        await vanisher.close()
        # A client that stays until the end keeps the process up until it has logged
        # the others; its own departure comes from the shutdown.
        last = await IrcClient.connect("127.0.0.1", proc.port)
        await last.register("last")
        await last.send("WHOWAS vanisher")
        await last.expect(r" 314 last vanisher ")
        assert "Registration timeout" in (await silent.at_eof(timeout=10))[-1]
        await silent.close()
        proc.proc.send_signal(signal.SIGTERM)
        await last.at_eof()
        await last.close()
        log = proc.rest_of_log()
    finally:
        proc.stop()
    assert len(re.findall(r"INFO \S+: connect 127\.0\.0\.1:\d+", log)) == 4
    disconnects = re.findall(r"INFO \S+: disconnect 127\.0\.0\.1:\d+ (.*)", log)
    assert any("nick=quitter" in d and "reason=Quit" in d for d in disconnects)
    assert any("nick=-" in d and "reason=Registration timeout" in d for d in disconnects)
    assert any("nick=vanisher" in d and "reason=Connection closed" in d for d in disconnects)
    assert "my private words" not in log
