"""Brute force over real sockets: past five failed logins a minute, per account and
per address, every attempt is refused with a clear answer until a delay passes, even
with the right password; once it has passed the right password works. Failures are
logged at WARNING, never with the password."""

from __future__ import annotations

import asyncio
import logging

import pytest
from support.clients import server_and_clients
from support.irc import IrcClient

from chat_server.app import ChatServer

PASSWORD = "the-right-one-42"
WRONG = "a-wrong-guess-"
# How long an answer that waits for password work (argon2id, in a thread) may take on
# a loaded machine.
SLOW = 20.0
# Between two tries of a time-based outcome (the delay passing).
RETRY = 0.05
THROTTLED = r"Too many failed logins to this account or from your address; try again in \d+ second"


def from_nickserv(pattern: str) -> str:
    return rf"^:NickServ!NickServ@\S+ NOTICE \S+ :.*{pattern}"


async def connect_from(server: ChatServer, address: str, nick: str) -> IrcClient:
    """A client whose connection comes from `address` (another loopback address)."""
    host, port = server.addresses[0]
    reader, writer = await asyncio.open_connection(host, port, local_addr=(address, 0))
    client = IrcClient(reader, writer)
    await client.register(nick)
    return client


async def identify_until_it_works(client: IrcClient, account: str, deadline: float) -> int:
    """Retry the right password while the delay lasts; how many tries were refused."""
    loop = asyncio.get_running_loop()
    refused = 0
    while True:
        await client.send(f"PRIVMSG NickServ :IDENTIFY {account} {PASSWORD}")
        answer = await client.expect(
            lambda m: m.command == "900" or (m.command == "NOTICE" and "Too many" in m.params[-1]),
            timeout=SLOW)
        if answer.command == "900":
            return refused
        refused += 1
        assert loop.time() < deadline, "the delay never passed"
        await asyncio.sleep(RETRY)


async def test_six_wrong_passwords_are_throttled_then_the_right_one_works(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="chat_server.accounts")
    async with server_and_clients(accounts_login_delay=0.5) as (server, connect):
        owner = await connect("owner")
        await owner.send(f"NS REGISTER {PASSWORD}")
        await owner.expect(r" 900 ", timeout=SLOW)
        attacker = await connect("attacker")
        for n in range(5):
            await attacker.send(f"PRIVMSG NickServ :IDENTIFY owner {WRONG}{n}")
            await attacker.expect(from_nickserv("Invalid account credentials"), timeout=SLOW)
        # The sixth attempt in the minute is refused without being checked, right or not.
        await attacker.send(f"PRIVMSG NickServ :IDENTIFY owner {PASSWORD}")
        refused = await attacker.expect(from_nickserv("Too many failed logins"), timeout=SLOW)
        assert refused.params[-1].endswith("try again in 1 second")
        await attacker.send("PING :usable")
        await attacker.expect(r"PONG \S+ :?usable")

        # The account is throttled wherever the attempt comes from.
        elsewhere = await connect_from(server, "127.0.0.2", "elsewhere")
        await elsewhere.send(f"PRIVMSG NickServ :IDENTIFY owner {PASSWORD}")
        await elsewhere.expect(from_nickserv(THROTTLED), timeout=SLOW)

        deadline = asyncio.get_running_loop().time() + 10
        await identify_until_it_works(elsewhere, "owner", deadline)
        await elsewhere.send("NS INFO owner")
        await elsewhere.expect(from_nickserv("Logged in now as: elsewhere, owner"))
        await elsewhere.close()

    warnings = [r for r in caplog.records if r.name == "chat_server.accounts"]
    assert all(r.levelno == logging.WARNING for r in warnings)
    texts = [r.getMessage() for r in warnings]
    assert sum("failed login to account 'owner'" in t for t in texts) == 5, texts
    assert any("refused: too many failures" in t for t in texts), texts
    assert not any(PASSWORD in t or WRONG in t for t in texts), texts


async def test_failures_from_one_address_throttle_it_for_every_account() -> None:
    async with server_and_clients(accounts_login_delay=0.5) as (server, connect):
        owner = await connect("victim")
        await owner.send(f"NS REGISTER {PASSWORD}")
        await owner.expect(r" 900 ", timeout=SLOW)
        guesser = await connect_from(server, "127.0.0.3", "guesser")
        for n in range(5):
            # Five different names that are no account: the address still counts them.
            await guesser.send(f"PRIVMSG NickServ :IDENTIFY nobody{n} {WRONG}")
            await guesser.expect(from_nickserv("Invalid account credentials"), timeout=SLOW)
        await guesser.send(f"PRIVMSG NickServ :IDENTIFY victim {PASSWORD}")
        await guesser.expect(from_nickserv(THROTTLED), timeout=SLOW)
        # Another address is not affected, and the account was never failed.
        other = await connect("bystander")
        await other.send(f"PRIVMSG NickServ :IDENTIFY victim {PASSWORD}")
        await other.expect(r" 900 bystander ", timeout=SLOW)
        deadline = asyncio.get_running_loop().time() + 10
        await identify_until_it_works(guesser, "victim", deadline)
        await guesser.close()


async def test_the_delay_doubles_with_each_failure_past_the_limit() -> None:
    async with server_and_clients(accounts_login_delay=0.5, accounts_login_attempts=2) as (
        _, connect
    ):
        owner = await connect("doubled")
        await owner.send(f"NS REGISTER {PASSWORD}")
        await owner.expect(r" 900 ", timeout=SLOW)
        guesser = await connect("guess")
        loop = asyncio.get_running_loop()
        waits = []
        for _ in range(2):
            await guesser.send(f"PRIVMSG NickServ :IDENTIFY doubled {WRONG}")
            await guesser.expect(from_nickserv("Invalid account credentials"), timeout=SLOW)
        # Blocked for 0.5 s; the next failure after that blocks for 1 s.
        start = loop.time()
        while True:
            await guesser.send(f"PRIVMSG NickServ :IDENTIFY doubled {WRONG}")
            answer = await guesser.expect(lambda m: m.command == "NOTICE", timeout=SLOW)
            if "Invalid" in answer.params[-1]:
                break
            assert loop.time() - start < 10
            await asyncio.sleep(RETRY)
        waits.append(loop.time() - start)
        start = loop.time()
        while True:
            await guesser.send(f"PRIVMSG NickServ :IDENTIFY doubled {PASSWORD}")
            answer = await guesser.expect(
                lambda m: m.command == "900" or (m.command == "NOTICE" and "Too many" in
                                                 m.params[-1]), timeout=SLOW)
            if answer.command == "900":
                break
            assert loop.time() - start < 10
            await asyncio.sleep(RETRY)
        waits.append(loop.time() - start)
        assert waits[0] >= 0.4 and waits[1] >= 0.9, waits
