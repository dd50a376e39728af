"""Accounts survive a restart: a real server process, stopped with SIGTERM and started
again on the same data directory, still logs its accounts in with their passwords, by
NickServ IDENTIFY, SASL PLAIN and SASL SCRAM-SHA-256 (and refuses wrong ones), keeps
them as argon2id hashes, and has never written a password into its database files or
its log. After a kill -9, what was registered more than a
few commit intervals before is still there."""

from __future__ import annotations

import asyncio
import base64
import signal
import sqlite3
from pathlib import Path

from scramp import ScramClient
from support.irc import IrcClient
from support.servers import ServerProcess

from chat_server.protocol.message import Message

COMMIT_INTERVAL = 0.05
# Two each way in: NickServ REGISTER, IRCv3 REGISTER, and a password changed after.
NS_PASSWORD = "Ns-Restart-Secret-8841"
IRC_PASSWORD = "Irc-Restart-Secret-5520"
OLD_PASSWORD = "Old-Restart-Secret-1207"
NEW_PASSWORD = "New-Restart-Secret-3396"
SECRETS = (NS_PASSWORD, IRC_PASSWORD, OLD_PASSWORD, NEW_PASSWORD)
DB_FILES = ("roomchat.db", "roomchat.db-wal", "roomchat.db-shm")


def store_env(data: Path) -> dict[str, str]:
    return {"ROOMCHAT_STORE_DATA_DIR": str(data),
            "ROOMCHAT_STORE_COMMIT_INTERVAL": str(COMMIT_INTERVAL)}


def from_nickserv(pattern: str) -> str:
    return rf"^:NickServ!NickServ@\S+ NOTICE \S+ :.*{pattern}"


def kept_accounts(data: Path) -> dict[str, str]:
    """Account name -> password_hash, read as an administrator would, beside the server."""
    conn = sqlite3.connect(data / "roomchat.db")
    try:
        return dict(conn.execute("SELECT name, password_hash FROM accounts"))
    finally:
        conn.close()


def leaked(data: Path) -> list[tuple[str, str]]:
    """(file, password) for every password whose bytes are in a database file."""
    found = []
    for name in DB_FILES:
        path = data / name
        if path.exists():
            content = path.read_bytes()
            found += [(name, secret) for secret in SECRETS if secret.encode() in content]
    return found


async def wait_for_accounts(data: Path, names: set[str], timeout: float = 10.0) -> None:
    """Until the writer has committed them (polling another process's file: no event)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not names <= set(await asyncio.to_thread(kept_accounts, data)):
        assert loop.time() < deadline, "the accounts were never committed"
        await asyncio.sleep(COMMIT_INTERVAL)


async def identify(server: ServerProcess, nick: str, account: str, password: str) -> Message:
    """A fresh connection's NickServ IDENTIFY: its 900, or NickServ's refusal."""
    client = await IrcClient.connect("127.0.0.1", server.port)
    try:
        await client.register(nick)
        await client.send(f"PRIVMSG NickServ :IDENTIFY {account} {password}")
        return await client.expect(
            lambda m: m.command == "900" or (m.command == "NOTICE" and m.source is not None
                                             and m.source.startswith("NickServ!")))
    finally:
        await client.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def answered(m: Message) -> bool:
    return m.command == "AUTHENTICATE" or m.command.startswith("90")


async def sasl(server: ServerProcess, nick: str, mechanism: str, account: str,
               password: str) -> Message:
    """A fresh connection's SASL login before the welcome: its 900 (the connection then
    registering logged in), or the 90x refusal. Every message fits one chunk."""
    client = await IrcClient.connect("127.0.0.1", server.port)
    try:
        await client.send("CAP LS 302")
        await client.expect(r" CAP \* LS .*sasl=")
        await client.send("CAP REQ :sasl")
        await client.expect(r" CAP \S+ ACK ")
        await client.send(f"NICK {nick}")
        await client.send(f"USER {nick} 0 * :{nick}")
        await client.send(f"AUTHENTICATE {mechanism}")
        await client.expect(lambda m: m.command == "AUTHENTICATE" and m.params[0] == "+")
        if mechanism == "PLAIN":
            await client.send("AUTHENTICATE " + b64(f"\0{account}\0{password}".encode()))
        else:
            scram = ScramClient([mechanism], account, password)
            await client.send("AUTHENTICATE " + b64(scram.get_client_first().encode()))
            first = await client.expect(answered)
            if first.command != "AUTHENTICATE":
                return first
            scram.set_server_first(base64.b64decode(first.params[0]).decode())
            await client.send("AUTHENTICATE " + b64(scram.get_client_final().encode()))
            final = await client.expect(answered)
            if final.command != "AUTHENTICATE":
                return final
            # The server proves it holds the credentials kept at registration.
            scram.set_server_final(base64.b64decode(final.params[0]).decode())
            await client.send("AUTHENTICATE +")
        verdict = await client.expect(r" 90[0-8] ")
        if verdict.command == "900":
            await client.expect(r" 903 ")
            await client.send("CAP END")
            await client.expect(rf" 001 {nick} ")
        return verdict
    finally:
        await client.close()


async def stop(server: ServerProcess, sig: signal.Signals = signal.SIGTERM) -> str:
    server.proc.send_signal(sig)
    log = await asyncio.to_thread(server.rest_of_log, 15)
    assert server.proc.returncode == (0 if sig == signal.SIGTERM else -sig), log
    return log


async def test_accounts_log_in_after_a_restart_and_no_password_is_ever_written(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first = ServerProcess(["--log-level", "DEBUG"], env=store_env(data))
    try:
        alice = await IrcClient.connect("127.0.0.1", first.port)
        await alice.register("alice")
        await alice.send(f"PRIVMSG NickServ :REGISTER {NS_PASSWORD}")
        await alice.expect(from_nickserv("Account alice created"))
        bob = await IrcClient.connect("127.0.0.1", first.port)
        await bob.register("bob")
        await bob.send(f"REGISTER * * :{IRC_PASSWORD}")
        await bob.expect(r" REGISTER SUCCESS bob ")
        carol = await IrcClient.connect("127.0.0.1", first.port)
        await carol.register("carol")
        await carol.send(f"PRIVMSG NickServ :REGISTER {OLD_PASSWORD}")
        await carol.expect(from_nickserv("Account carol created"))
        await carol.send(f"PRIVMSG NickServ :SET PASSWORD {NEW_PASSWORD}")
        await carol.expect(from_nickserv("changed"))
        # While it runs, the WAL holds what was committed: no password in it either.
        await wait_for_accounts(data, {"alice", "bob", "carol"})
        assert leaked(data) == []
        for client in (alice, bob, carol):
            await client.close()
        first_log = await stop(first)
    finally:
        first.stop()
    hashes = kept_accounts(data)
    assert sorted(hashes) == ["alice", "bob", "carol"]
    assert all(h.startswith("$argon2id$") for h in hashes.values()), hashes
    assert leaked(data) == []

    second = ServerProcess(["--log-level", "DEBUG"], env=store_env(data))
    try:
        assert "3 accounts and 0 registered rooms loaded" in "".join(second.log)
        logged = await identify(second, "visitor1", "alice", NS_PASSWORD)
        assert logged.command == "900" and logged.params[2] == "alice"
        logged = await identify(second, "visitor2", "bob", IRC_PASSWORD)
        assert logged.command == "900" and logged.params[2] == "bob"
        logged = await identify(second, "visitor3", "carol", NEW_PASSWORD)
        assert logged.command == "900" and logged.params[2] == "carol"
        for nick, mechanism, account, password in (
                ("visitor4", "PLAIN", "alice", NS_PASSWORD),
                ("visitor5", "SCRAM-SHA-256", "bob", IRC_PASSWORD),
                ("visitor6", "SCRAM-SHA-256", "carol", NEW_PASSWORD)):
            logged = await sasl(second, nick, mechanism, account, password)
            assert logged.command == "900" and logged.params[2] == account, logged
        refused = await identify(second, "visitor7", "alice", IRC_PASSWORD)
        assert refused.command == "NOTICE", refused
        assert "Invalid account credentials" in refused.params[-1]
        refused = await sasl(second, "visitor8", "PLAIN", "carol", OLD_PASSWORD)
        assert refused.command == "904", refused
        second_log = await stop(second)
    finally:
        second.stop()
    assert leaked(data) == []
    for secret in SECRETS:
        assert secret not in first_log and secret not in second_log


async def test_an_account_registered_before_a_kill_9_is_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess([], env=store_env(data))
    try:
        dana = await IrcClient.connect("127.0.0.1", first.port)
        await dana.register("dana")
        await dana.send(f"PRIVMSG NickServ :REGISTER {NS_PASSWORD}")
        await dana.expect(from_nickserv("Account dana created"))
        # The guarantee is time-based: at most the last commit interval is lost.
        await asyncio.sleep(10 * COMMIT_INTERVAL)
        await stop(first, signal.SIGKILL)
        await dana.close()
    finally:
        first.stop()
    second = ServerProcess([], env=store_env(data))
    try:
        logged = await identify(second, "visitor", "dana", NS_PASSWORD)
        assert logged.command == "900" and logged.params[2] == "dana"
    finally:
        second.stop()
