"""Making an account and logging in to it, as a person on a real socket sees it: IRCv3
REGISTER (draft/account-registration) before and after the welcome, NickServ REGISTER
and IDENTIFY, the other NickServ commands, and each refusal with its FAIL code, the
connection staying usable after every one."""

from __future__ import annotations

import asyncio
import hashlib
import signal
import ssl
from pathlib import Path

from support.clients import server_and_clients
from support.irc import ClientFactory, IrcClient
from support.servers import ServerProcess
from support.tls import Pki, tls_client, tls_server

from chat_server.protocol.message import Message

PASSWORD = "correct-horse-battery"
NS_PASSWORD = "hunter2-but-longer"
# How long an answer that waits for password work (argon2id, in a thread) may take on
# a loaded machine.
SLOW = 20.0


def notice_from_nickserv(pattern: str) -> str:
    return rf"^:NickServ!NickServ@\S+ NOTICE \S+ :.*{pattern}"


async def still_usable(client: IrcClient) -> None:
    await client.send("PING :still-here")
    await client.expect(r"PONG \S+ :?still-here")


async def test_register_after_the_welcome_logs_in(connect: ClientFactory) -> None:
    alice = await connect("alice")
    await alice.send(f"REGISTER * * :{PASSWORD}")
    logged = await alice.expect(r" 900 ", timeout=SLOW)
    assert logged.params[1].startswith("alice!") and logged.params[2] == "alice"
    success = await alice.expect(r" REGISTER SUCCESS ", timeout=SLOW)
    assert list(success.params[:2]) == ["SUCCESS", "alice"]
    await alice.send("NS INFO")
    await alice.expect(notice_from_nickserv("Logged in now as: alice$"))


async def test_register_before_the_welcome_with_cap_and_then_identify(
    connect: ClientFactory,
) -> None:
    bob = await connect()
    await bob.send("CAP LS 302")
    ls = await bob.expect(r" CAP \* LS ")
    assert "draft/account-registration=before-connect" in ls.params[-1].split()
    await bob.send("CAP REQ :draft/account-registration")
    await bob.expect(r" CAP \* ACK ")
    await bob.send("REGISTER * * :" + PASSWORD)
    need = await bob.expect(r"^:\S+ FAIL REGISTER ")
    assert list(need.params[1:3]) == ["NEED_NICK", "*"]
    await bob.send("NICK bob")
    await bob.send("REGISTER bob someone@example.org :" + PASSWORD)
    await bob.expect(r" 900 \S+ bob!\S+ bob ", timeout=SLOW)
    await bob.expect(r" REGISTER SUCCESS bob ", timeout=SLOW)
    await bob.send("USER bob 0 * :Bob")
    await bob.send("CAP END")
    await bob.expect(r" 001 bob ")
    await bob.send("NS INFO bob")
    await bob.expect(notice_from_nickserv("Logged in now as: bob$"))
    await bob.send("QUIT")
    await bob.at_eof()

    again = await connect("bob2")
    await again.send("NICK bob")
    await again.expect(r" NICK :?bob$")
    await again.send(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}")
    await again.expect(r" 900 bob bob!\S+ bob ", timeout=SLOW)
    await again.expect(notice_from_nickserv("You are now logged in as bob"), timeout=SLOW)


async def test_nickserv_register_and_identify_with_an_account_name(
    connect: ClientFactory,
) -> None:
    carol = await connect("carol")
    await carol.send(f"PRIVMSG NickServ :REGISTER {NS_PASSWORD}")
    await carol.expect(r" 900 carol ", timeout=SLOW)
    await carol.expect(notice_from_nickserv("Account carol created"), timeout=SLOW)
    await carol.send("QUIT")
    await carol.at_eof()

    other = await connect("someone")
    # The NS command is NickServ too.
    await other.send(f"NS IDENTIFY carol {NS_PASSWORD}")
    await other.expect(r" 900 someone someone!\S+ carol ", timeout=SLOW)
    await other.expect(notice_from_nickserv("You are now logged in as carol"), timeout=SLOW)
    await other.send("NICKSERV INFO")
    await other.expect(notice_from_nickserv("Account carol, registered 2"))
    await other.expect(notice_from_nickserv("Logged in now as: someone"))


async def test_a_wrong_password_is_told_and_the_connection_goes_on(
    connect: ClientFactory,
) -> None:
    dave = await connect("dave")
    await dave.send(f"NS REGISTER {NS_PASSWORD}")
    await dave.expect(notice_from_nickserv("created"), timeout=SLOW)
    other = await connect("eve")
    await other.send("PRIVMSG NickServ :IDENTIFY dave not-the-password")
    await other.expect(notice_from_nickserv("Invalid account credentials"), timeout=SLOW)
    await still_usable(other)
    await other.send("PRIVMSG NickServ :IDENTIFY nobody-has-this some-password")
    await other.expect(notice_from_nickserv("Invalid account credentials"), timeout=SLOW)
    await other.send("NS INFO dave")
    await other.expect(notice_from_nickserv("Logged in now as: dave$"))


async def test_bad_register_input_gets_its_fail_code(connect: ClientFactory) -> None:
    taken = await connect("taken")
    await taken.send(f"REGISTER * * :{PASSWORD}")
    await taken.expect(r" REGISTER SUCCESS ", timeout=SLOW)
    frank = await connect("frank")

    async def fails(line: str, code: str, account: str) -> Message:
        await frank.send(line)
        msg = await frank.expect(r"^:\S+ FAIL REGISTER ")
        assert list(msg.params[1:3]) == [code, account], msg
        return msg

    await fails(f"REGISTER #room * :{PASSWORD}", "BAD_ACCOUNT_NAME", "#room")
    await fails(f"REGISTER george * :{PASSWORD}", "ACCOUNT_NAME_MUST_BE_NICK", "george")
    short = await fails("REGISTER * * short", "WEAK_PASSWORD", "frank")
    assert "at least 8 characters" in short.params[-1]
    await fails("REGISTER * * :" + "x" * 301, "UNACCEPTABLE_PASSWORD", "frank")
    spaced = await fails("REGISTER * * :two words here", "UNACCEPTABLE_PASSWORD", "frank")
    assert "spaces" in spaced.params[-1]
    await frank.send("NICK Guest12345")
    await frank.expect(r" NICK :?Guest12345$")
    await fails(f"REGISTER * * :{PASSWORD}", "BAD_ACCOUNT_NAME", "Guest12345")
    await frank.send("NICK frank")
    await frank.expect(r" NICK :?frank$")
    await frank.send("REGISTER * *")
    await frank.expect(r" 461 frank REGISTER ")
    # A name registered by someone who has left.
    await taken.send("QUIT")
    await taken.at_eof()
    await frank.send("NICK taken")
    await frank.expect(r" NICK :?taken$")
    await fails(f"REGISTER * * :{PASSWORD}", "ACCOUNT_EXISTS", "taken")
    await frank.send("NICK frank")
    await frank.expect(r" NICK :?frank$")
    await frank.send(f"REGISTER * * :{PASSWORD}")
    await frank.expect(r" REGISTER SUCCESS frank ", timeout=SLOW)
    await fails(f"REGISTER * * :{PASSWORD}", "ALREADY_AUTHENTICATED", "frank")
    await frank.send("VERIFY frank 123456")
    verify = await frank.expect(r" FAIL VERIFY ")
    assert verify.params[1] == "ALREADY_AUTHENTICATED"
    await still_usable(frank)
    assert not any(PASSWORD in line for line in frank.seen), "no answer repeats a password"


async def test_verify_without_a_pending_registration_is_invalid_code(
    connect: ClientFactory,
) -> None:
    client = await connect("gina")
    await client.send("VERIFY gina 123456")
    fail = await client.expect(r" FAIL VERIFY ")
    assert list(fail.params[1:3]) == ["INVALID_CODE", "gina"]
    await still_usable(client)


async def test_the_account_nick_cannot_be_taken_by_a_registering_stranger_online(
    connect: ClientFactory,
) -> None:
    await connect("holder")
    stranger = await connect()
    await stranger.send("NICK holder")
    await stranger.expect(r" 433 \* holder ")
    await stranger.send(f"REGISTER holder * :{PASSWORD}")
    fail = await stranger.expect(r" FAIL REGISTER ")
    assert fail.params[1] == "NEED_NICK"


async def test_closed_registration_refuses_both_ways_and_hides_the_cap() -> None:
    async with server_and_clients(accounts_registration="closed") as (_, connect):
        harry = await connect()
        await harry.send("CAP LS 302")
        ls = await harry.expect(r" CAP \* LS ")
        assert "draft/account-registration" not in ls.params[-1]
        await harry.send("CAP END")
        await harry.register("harry")
        await harry.send(f"REGISTER * * :{PASSWORD}")
        fail = await harry.expect(r" FAIL REGISTER ")
        assert list(fail.params[1:3]) == ["TEMPORARILY_UNAVAILABLE", "harry"]
        assert "closed" in fail.params[-1]
        await harry.send(f"PRIVMSG NickServ :REGISTER {NS_PASSWORD}")
        await harry.expect(notice_from_nickserv("registration is closed"))
        await still_usable(harry)


async def test_nickserv_usage_help_and_unknown_commands(connect: ClientFactory) -> None:
    ivy = await connect("ivy")
    await ivy.send("PRIVMSG NickServ :HELP")
    await ivy.expect(notice_from_nickserv("IDENTIFY \\[ACCOUNT\\] PASSWORD"))
    await ivy.send("PRIVMSG NickServ :FROBNICATE")
    await ivy.expect(notice_from_nickserv("Unknown command FROBNICATE"))
    await ivy.send("PRIVMSG NickServ :IDENTIFY")
    await ivy.expect(notice_from_nickserv("Usage: IDENTIFY"))
    await ivy.send("PRIVMSG NickServ :REGISTER")
    await ivy.expect(notice_from_nickserv("Usage: REGISTER"))
    await ivy.send("PRIVMSG NickServ :REGISTER tiny")
    await ivy.expect(notice_from_nickserv("at least 8 characters"), timeout=SLOW)
    await ivy.send("PRIVMSG NickServ :GHOST someone")
    await ivy.expect(notice_from_nickserv("Nobody is using the nick someone"))
    await ivy.send("PRIVMSG NickServ :DROP whatever")
    await ivy.expect(notice_from_nickserv("You are not logged in"))
    await ivy.send("PRIVMSG NickServ :INFO nobody")
    await ivy.expect(notice_from_nickserv("nobody is not a registered account"))
    await still_usable(ivy)


async def test_what_is_said_to_nickserv_reaches_nobody_else(connect: ClientFactory) -> None:
    jack = await connect("jack", ("echo-message",))
    watcher = await connect("watcher")
    await jack.join("#room")
    await watcher.join("#room")
    await jack.send(f"PRIVMSG NickServ :REGISTER {NS_PASSWORD}")
    await jack.expect(notice_from_nickserv("created"), timeout=SLOW)
    await jack.send("PRIVMSG #room :after")
    await watcher.expect(r"PRIVMSG #room :?after$")
    await jack.expect(r"PRIVMSG #room :?after$")  # the echo
    assert not any(NS_PASSWORD in line for line in jack.seen + watcher.seen)


async def test_ghost_drop_set_password_and_cert(connect: ClientFactory) -> None:
    kim = await connect("kim")
    await kim.send(f"NS REGISTER {NS_PASSWORD}")
    await kim.expect(notice_from_nickserv("created"), timeout=SLOW)
    await kim.send("QUIT")
    await kim.at_eof()
    squatter = await connect("kim")
    owner = await connect("kim_")
    await owner.send(f"NS IDENTIFY kim {NS_PASSWORD}")
    await owner.expect(notice_from_nickserv("logged in as kim"), timeout=SLOW)
    await owner.send("NS GHOST kim")
    await owner.expect(notice_from_nickserv("Disconnecting kim"))
    closing = await squatter.at_eof()
    assert any("GHOST command used by kim_" in line for line in closing)
    await owner.send("NICK kim")
    await owner.expect(r" NICK :?kim$")

    await owner.send("NS SET PASSWORD tiny")
    await owner.expect(notice_from_nickserv("at least 8 characters"), timeout=SLOW)
    await owner.send("NS SET PASSWORD a-new-long-password")
    await owner.expect(notice_from_nickserv("password of kim is changed"), timeout=SLOW)
    await owner.send("NS CERT LIST")
    await owner.expect(notice_from_nickserv("No client certificate"))
    await owner.send("NS CERT ADD")
    await owner.expect(notice_from_nickserv("not connected with a client certificate"))
    await owner.send("NS CERT ADD nothex")
    await owner.expect(notice_from_nickserv("64 digits"))
    fp = "AB:" * 31 + "CD"
    await owner.send(f"NS CERT ADD {fp}")
    added = "ab" * 31 + "cd"
    await owner.expect(notice_from_nickserv(f"Certificate {added} now logs in to kim"))
    await owner.send("NS CERT LIST")
    await owner.expect(notice_from_nickserv(f"Certificate: {added}"))
    await owner.send(f"NS CERT DEL {added}")
    await owner.expect(notice_from_nickserv("no longer logs in"), timeout=SLOW)

    await owner.send(f"NS DROP {NS_PASSWORD}")  # the old password no longer works
    await owner.expect(notice_from_nickserv("Invalid account credentials"), timeout=SLOW)
    await owner.send("NS DROP a-new-long-password")
    await owner.expect(notice_from_nickserv("The account kim is dropped"), timeout=SLOW)
    await owner.expect(r" 901 kim ")
    await owner.send("NS INFO kim")
    await owner.expect(notice_from_nickserv("kim is not a registered account"))


async def test_failed_logins_are_logged_at_warning_without_the_password() -> None:
    # (test_accounts_restart.py checks the database and a restart.)
    secret, wrong = "Sekrit-Pass-4913", "Wrong-Pass-7731"
    server = ServerProcess(["--log-level", "DEBUG"])
    try:
        lena = await IrcClient.connect("127.0.0.1", server.port)
        await lena.register("lena")
        await lena.send(f"REGISTER * * :{secret}")
        await lena.expect(r" REGISTER SUCCESS ", timeout=SLOW)
        nina = await IrcClient.connect("127.0.0.1", server.port)
        await nina.register("nina")
        # A wrong password, a password typed where the name goes, one for one's own nick.
        for words in (f"lena {wrong}", f"{wrong} {secret}", wrong):
            await nina.send(f"PRIVMSG NickServ :IDENTIFY {words}")
            await nina.expect(notice_from_nickserv("Invalid account credentials"),
                              timeout=SLOW)
        await nina.send(f"PRIVMSG NickServ :IDENTIFY lena {secret}")
        await nina.expect(r" 900 nina ", timeout=SLOW)
        for client in (lena, nina):
            await client.close()
        server.proc.send_signal(signal.SIGTERM)
        log = await asyncio.to_thread(server.rest_of_log, 15)
    finally:
        server.stop()
    warnings = [line for line in log.splitlines() if "failed login" in line]
    assert len(warnings) == 3 and all("WARNING" in line for line in warnings), log
    assert sum("failed login to account 'lena' from 127.0.0.1" in w for w in warnings) == 1
    assert secret not in log and wrong not in log, log


async def test_cert_add_alone_adds_the_certificate_one_is_connected_with(
    tmp_path: Path,
) -> None:
    pki = Pki.make(tmp_path / "server")
    clients = Pki.make(tmp_path / "clients", "client")
    person = clients.ca.issue_cert("olga@example.org")
    der = ssl.PEM_cert_to_DER_cert(person.cert_chain_pems[0].bytes().decode())
    fingerprint = hashlib.sha256(der).hexdigest()
    async with tls_server(pki) as server:
        assert server.tls is not None
        server.tls.reload(str(pki.cert), str(pki.key), str(clients.ca_file))
        context = pki.client_context()
        person.configure_cert(context)
        olga = await tls_client(server.tls_addresses[0][1], context)
        host, port = server.addresses[0]
        pete = await IrcClient.connect(host, port)
        try:
            await olga.register("olga")
            await olga.send(f"NS REGISTER {NS_PASSWORD}")
            await olga.expect(r" 900 ", timeout=SLOW)
            # Registered over TLS with a certificate: the account has it already.
            await olga.send("NS CERT LIST")
            await olga.expect(notice_from_nickserv(f"Certificate: {fingerprint}$"))
            await olga.send(f"NS CERT DEL {fingerprint}")
            await olga.expect(notice_from_nickserv("no longer logs in to olga"))
            await olga.send("NS CERT ADD")
            await olga.expect(notice_from_nickserv(f"Certificate {fingerprint} now logs in"))
            await pete.register("pete")
            await pete.send(f"NS REGISTER {NS_PASSWORD}")
            await pete.expect(r" 900 ", timeout=SLOW)
            await pete.send(f"NS CERT ADD {fingerprint}")
            await pete.expect(notice_from_nickserv("logs in to another account"))
        finally:
            await olga.close()
            await pete.close()


async def test_register_before_the_welcome_does_not_get_round_the_server_password() -> None:
    async with server_and_clients(server_password="sesame") as (server, connect):
        stranger = await connect()
        await stranger.send("NICK stranger")
        await stranger.send(f"REGISTER * * :{PASSWORD}")
        fail = await stranger.expect(r" FAIL REGISTER ")
        assert list(fail.params[1:3]) == ["TEMPORARILY_UNAVAILABLE", "*"]
        assert "server password" in fail.params[-1]
        assert not server.hub.accounts
        friend = await connect()
        await friend.send("PASS sesame")
        await friend.send("NICK friend")
        await friend.send(f"REGISTER * * :{PASSWORD}")
        await friend.expect(r" REGISTER SUCCESS friend ", timeout=SLOW)
