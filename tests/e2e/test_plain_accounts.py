"""Accounts for a person at netcat, against a real chat-server process: /register, the
password prompt of a registered nickname on the next visit, /msg NickServ, and the
password never reaching the room, history or the server's log."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.history import FULL_CAPS, history, texts
from support.irc import IrcClient
from support.plain import PlainClient, untimed
from support.servers import ServerProcess

PASSWORD = "open-sesame-42"
WRONG = "close-sesame-43"
PROMPT = "This nickname is registered. Password:"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    process = ServerProcess([], env={
        "ROOMCHAT_STORE_DATA_DIR": str(tmp_path / "data"),
        "ROOMCHAT_ACCOUNTS_LOGIN_GRACE": "0.5",
        "ROOMCHAT_ACCOUNTS_LOGIN_ATTEMPTS": "3",
        "ROOMCHAT_ACCOUNTS_LOGIN_DELAY": "1",
    })
    try:
        yield process
    finally:
        process.stop()


async def plain(server: ServerProcess) -> PlainClient:
    client = await PlainClient.connect("127.0.0.1", server.port)
    await client.expect(r"^Pick a nickname:$")
    return client


async def test_register_then_log_in_at_the_prompt_with_a_wrong_password_first(
    server: ServerProcess,
) -> None:
    bob = await IrcClient.connect("127.0.0.1", server.port)
    await bob.register("bob", FULL_CAPS)
    await bob.join("#lobby")

    zhang = await plain(server)
    await zhang.choose_nick("zhang")
    await zhang.send(f"/register {PASSWORD}")
    await zhang.expect(r"^\[\S+\] \* You are now logged in as zhang\.$")
    await zhang.expect(r"-NickServ- .*created")
    await zhang.send("/quit")
    await zhang.at_eof()
    await zhang.close()
    await bob.expect(r" :zhang!\S+ QUIT ")

    again = await plain(server)
    await again.send("zhang")
    assert await again.expect(r"Password:$") == PROMPT
    await again.send(WRONG)
    refused = await again.next()
    assert refused.startswith("! Invalid account credentials. Password ("), refused
    await again.send(PASSWORD)
    assert untimed(await again.next()) == "* You are now logged in as zhang."
    assert (await again.next()).startswith("Welcome, zhang. You are in #lobby with bob")
    await bob.expect(r" :zhang!\S+ JOIN #lobby")
    await again.send("logged in and talking")
    await bob.expect(r"PRIVMSG #lobby :logged in and talking$")

    # NickServ answers a plain /msg in lines a person reads; what is said to it is
    # never echoed.
    await again.send("/msg NickServ INFO")
    info = await again.expect(r"-NickServ- ")
    assert untimed(info).startswith("<- -NickServ- Account zhang, registered "), info
    kept = texts(await history(bob, "CHATHISTORY LATEST #lobby * 50"))
    assert kept == ["logged in and talking"]
    await again.send("/quit")
    await again.at_eof()
    await again.close()

    for line in bob.seen + again.seen:
        assert PASSWORD not in line and WRONG not in line, line
    assert not any(PASSWORD in line or WRONG in line for line in zhang.seen)
    await bob.close()
    server.proc.send_signal(signal.SIGTERM)
    log = await asyncio.to_thread(server.rest_of_log, 15)
    assert "failed login to account 'zhang'" in log
    assert PASSWORD not in log and WRONG not in log


async def test_too_many_wrong_passwords_are_refused_until_the_delay_passes(
    server: ServerProcess,
) -> None:
    owner = await plain(server)
    await owner.choose_nick("lisi")
    await owner.send(f"/register {PASSWORD}")
    await owner.expect(r"You are now logged in as lisi\.$")
    await owner.send("/quit")
    await owner.at_eof()
    await owner.close()

    guesser = await plain(server)
    await guesser.send("lisi")
    await guesser.expect(r"Password:$")
    for _ in range(3):
        await guesser.send(WRONG)
        assert (await guesser.next()).startswith("! Invalid account credentials.")
    await guesser.send(PASSWORD)
    refused = await guesser.next()
    assert refused.startswith("! Too many failed logins"), refused
    # The delay is a second: the right password works once it has passed.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while True:
        await guesser.send(PASSWORD)
        answer = untimed(await guesser.next())
        if answer == "* You are now logged in as lisi.":
            break
        assert answer.startswith("! Too many failed logins") and loop.time() < deadline, answer
        await asyncio.sleep(0.2)  # retrying a time-based refusal, not waiting for an event
    await guesser.close()


async def test_logging_out_on_a_registered_nick_points_to_login_then_renames(
    server: ServerProcess,
) -> None:
    wang = await plain(server)
    await wang.choose_nick("wang")
    await wang.send(f"/register {PASSWORD}")
    await wang.expect(r"You are now logged in as wang\.$")
    await wang.send("/logout")
    await wang.expect(r"\* You are now logged out\.$")
    notice = await wang.expect(r"-NickServ- This nickname is registered")
    assert "/login PASSWORD" in notice and "/msg NickServ" not in notice, notice
    # login_grace is half a second here: then the nick goes to a guest.
    await wang.expect(r"\* You are now known as Guest\d+\.$")
    await wang.send(f"/login wang {PASSWORD}")
    await wang.expect(r"\* You are now logged in as wang\.$")
    await wang.send("/nick wang")
    await wang.expect(r"\* You are now known as wang\.$")
    await wang.close()
