"""The IRCv3 account features over real sockets: WHOIS 330, WHOX %a, account-tag,
account-notify, extended-join, and private history kept by account.

People make accounts and log in with NickServ (REGISTER, IDENTIFY); they are logged
out by the fact a logout emits, since nothing offers to log out yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.history import FULL_CAPS, history, read_batch, texts
from support.irc import ClientFactory, IrcClient
from support.servers import running_server

from chat_server.app import ChatServer
from chat_server.hub.facts import LoggedIn
from chat_server.protocol import names
from chat_server.protocol.message import Message, parse_line

PASSWORD = "correct-horse-battery"


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    async with running_server() as srv:
        yield srv


def uid_of(server: ChatServer, nick: str) -> str:
    return server.hub.users[names.fold(nick)].uid


async def register_account(client: IrcClient) -> None:
    """An account named after the client's nick, the client logged in to it."""
    await client.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    await client.expect(rf" 900 {client.nick} \S+ {client.nick} ", timeout=20)


async def log_in(client: IrcClient, account: str) -> None:
    await client.send(f"PRIVMSG NickServ :IDENTIFY {account} {PASSWORD}")
    await client.expect(rf" 900 {client.nick} \S+ {account} ", timeout=20)


async def log_out(server: ChatServer, client: IrcClient) -> None:
    server.hub.emit(LoggedIn(uid_of(server, client.nick), ""))
    await client.expect(rf" 901 {client.nick} ")


async def synced(client: IrcClient, token: str = "sync") -> None:
    """Wait until the server has answered everything sent before (a PING's PONG)."""
    await client.send(f"PING {token}")
    await client.expect(rf"PONG \S+ :?{token}$")


def untagged(line: str) -> str:
    return line.split(" ", 1)[1] if line.startswith("@") else line


def received(client: IrcClient, command: str) -> list[Message]:
    return [m for m in map(parse_line, client.seen) if m.command == command]


# -- WHOIS and WHO --------------------------------------------------------------


async def test_whois_shows_the_account_of_a_logged_in_person_only(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    await connect("bob")
    await register_account(alice)
    await alice.send("WHOIS alice")
    account = await alice.expect(r" (330|318) ")
    assert account.command == "330"
    assert account.params == ("alice", "alice", "alice", "is logged in as")
    await alice.send("WHOIS bob")
    await alice.expect(r" 311 alice bob ")
    end = await alice.expect(r" (330|318) ")
    assert end.command == "318"


async def test_whox_a_is_the_account_or_0(server: ChatServer, connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#dev")
    await bob.join("#dev")
    await register_account(alice)
    await alice.send("WHO #dev %tnaf,42")
    rows = [await alice.expect(r" 354 "), await alice.expect(r" 354 ")]
    await alice.expect(r" 315 ")
    # Fields in the spec's order (t, n, f, a), whatever order they were asked in.
    assert sorted(m.params[1:] for m in rows) == [
        ("42", "alice", "H@", "alice"), ("42", "bob", "H", "0")]
    await log_out(server, alice)
    await alice.send("WHO alice %a")
    assert (await alice.expect(r" 354 ")).params[1:] == ("0",)


# -- account-tag ------------------------------------------------------------------


async def test_account_tag_only_for_clients_that_negotiated_it(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice", ("account-tag", "echo-message"))
    bob = await connect("bob", ("account-tag", "message-tags"))
    carol = await connect("carol")
    for client in (alice, bob, carol):
        await client.join("#dev")
    await register_account(alice)

    await alice.send("PRIVMSG #dev :hello")
    to_bob = await bob.expect(r"PRIVMSG #dev :?hello$")
    to_carol = await carol.expect(r"PRIVMSG #dev :?hello$")
    assert to_bob.tags.get("account") == "alice"
    assert "account" not in to_carol.tags
    # The same line, with or without the tag.
    assert carol.seen[-1] == ":alice!~u@127.0.0.1 PRIVMSG #dev hello"
    assert untagged(bob.seen[-1]) == carol.seen[-1]
    # echo-message: the sender's own copy carries it too.
    echo = await alice.expect(r"PRIVMSG #dev :?hello$")
    assert echo.tags.get("account") == "alice"

    await alice.send("NOTICE #dev :heads up")
    assert (await bob.expect(r"NOTICE #dev :heads up")).tags.get("account") == "alice"
    await alice.send("@+typing=active TAGMSG #dev")
    assert (await bob.expect(r" TAGMSG #dev")).tags.get("account") == "alice"
    await alice.send("PRIVMSG bob :psst")
    assert (await bob.expect(r"PRIVMSG bob :?psst$")).tags.get("account") == "alice"
    await alice.send("TOPIC #dev :release friday")
    assert (await bob.expect(r" TOPIC #dev ")).tags.get("account") == "alice"
    await alice.send("NICK ally")
    assert (await bob.expect(r" NICK :?ally")).tags.get("account") == "alice"
    await alice.send("PART #dev")
    assert (await bob.expect(r" PART #dev")).tags.get("account") == "alice"
    await alice.send("JOIN #dev")
    assert (await bob.expect(r" JOIN :?#dev")).tags.get("account") == "alice"

    # Someone not logged in sends no account tag.
    await carol.send("PRIVMSG #dev :me too")
    assert "account" not in (await bob.expect(r"PRIVMSG #dev :me too")).tags
    await synced(carol)
    assert not [line for line in carol.seen if "account=" in line]


async def test_account_tag_on_a_labeled_echo(connect: ClientFactory) -> None:
    alice = await connect("alice", ("account-tag", "echo-message", "labeled-response",
                                    "message-tags"))
    await connect("bob")
    await register_account(alice)
    await alice.send("@label=L1 PRIVMSG bob :hi")
    echo = await alice.expect(r"PRIVMSG bob :?hi$")
    assert echo.tags.get("label") == "L1" and echo.tags.get("account") == "alice"


# -- account-notify and extended-join --------------------------------------------


async def test_account_notify_tells_room_mates_that_asked_and_the_person(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice = await connect("alice", ("account-notify",))
    bob = await connect("bob", ("account-notify",))
    carol = await connect("carol")
    dave = await connect("dave", ("account-notify",))  # shares no room with alice
    for client in (alice, bob, carol):
        await client.join("#dev")

    await register_account(alice)
    line = await bob.expect(r" ACCOUNT ")
    assert line.source == "alice!~u@127.0.0.1" and line.params == ("alice",)
    # "including themselves", after the 900.
    own = await alice.expect(r" ACCOUNT ")
    assert own.params == ("alice",)

    await log_out(server, alice)
    assert (await bob.expect(r" ACCOUNT ")).params == ("*",)
    assert (await alice.expect(r" ACCOUNT ")).params == ("*",)

    await log_in(alice, "alice")
    assert (await bob.expect(r" ACCOUNT ")).params == ("alice",)

    for client in (carol, dave):
        await synced(client)
        assert received(client, "ACCOUNT") == []


async def test_account_notify_carries_the_account_tag_of_the_account_left(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob", ("account-notify", "account-tag"))
    await alice.join("#dev")
    await bob.join("#dev")
    await register_account(alice)
    login = await bob.expect(r" ACCOUNT ")
    assert login.params == ("alice",) and "account" not in login.tags
    await log_out(server, alice)
    logout = await bob.expect(r" ACCOUNT ")
    assert logout.params == ("*",) and logout.tags.get("account") == "alice"


async def test_extended_join_gives_the_account_or_star_and_the_realname(
    connect: ClientFactory,
) -> None:
    bob = await connect("bob", ("extended-join",))
    carol = await connect("carol")
    alice = await connect("alice")
    await bob.join("#dev")
    await carol.join("#dev")
    await register_account(alice)
    await alice.send("JOIN #dev")
    joined = await bob.expect(r"^:alice!\S+ JOIN #dev")
    assert bob.seen[-1] == ":alice!~u@127.0.0.1 JOIN #dev alice :Test User alice"
    assert joined.params == ("#dev", "alice", "Test User alice")
    plain = await carol.expect(r"^:alice!\S+ JOIN :?#dev")
    assert plain.params == ("#dev",)

    dave = await connect("dave", ("extended-join",))
    await dave.send("JOIN #dev")
    assert (await bob.expect(r"dave!\S+ JOIN #dev")).params == ("#dev", "*", "Test User dave")
    # Their own join, with extended-join, reads the same way.
    assert (await dave.expect(r"dave!\S+ JOIN #dev")).params == ("#dev", "*", "Test User dave")


# -- private history by account ---------------------------------------------------


async def test_private_history_follows_a_logged_in_person_to_a_new_nick_and_connection(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice", FULL_CAPS)
    bob = await connect("bob", FULL_CAPS)
    await register_account(alice)
    await register_account(bob)
    await alice.send("PRIVMSG bob :hi bob")
    await bob.expect(r"PRIVMSG bob :hi bob")
    await bob.send("PRIVMSG alice :hi alice")
    await alice.expect(r"PRIVMSG alice :hi alice")

    # A new nick: the same conversation.
    await alice.send("NICK ally")
    await alice.expect(r" NICK :?ally")
    alice.nick = "ally"
    assert texts(await history(bob, "CHATHISTORY LATEST ally * 10")) == ["hi bob", "hi alice"]
    await bob.send("PRIVMSG ally :still there?")
    await alice.expect(r"PRIVMSG ally :still there\?")

    # Offline: the nick of her account still names it.
    await alice.send("QUIT :bye")
    await alice.at_eof()
    everything = ["hi bob", "hi alice", "still there?"]
    assert texts(await history(bob, "CHATHISTORY LATEST alice * 10")) == everything

    # A new connection on another nick, logged in again.
    again = await connect("alice_", FULL_CAPS)
    await log_in(again, "alice")
    assert texts(await history(bob, "CHATHISTORY LATEST alice_ * 10")) == everything
    assert texts(await history(again, "CHATHISTORY LATEST bob * 10")) == everything

    # TARGETS names the conversation by her nick now.
    await bob.send("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                   "timestamp=2100-01-01T00:00:00.000Z 10")
    _, rows = await read_batch(bob)
    assert [m.params[1] for m in rows] == ["alice_"]
    await again.send("QUIT :bye")
    await again.at_eof()
    await bob.send("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                   "timestamp=2100-01-01T00:00:00.000Z 10")
    _, rows = await read_batch(bob)
    assert [m.params[1] for m in rows] == ["alice"]  # offline: the account's name


async def test_private_history_of_people_not_logged_in_stays_with_the_nicks(
    connect: ClientFactory,
) -> None:
    carol = await connect("carol", FULL_CAPS)
    dave = await connect("dave", FULL_CAPS)
    bob = await connect("bob", FULL_CAPS)
    await register_account(bob)  # only one of a pair logged in: by nick too
    await carol.send("PRIVMSG dave :hi dave")
    await dave.expect(r"PRIVMSG dave :hi dave")
    await bob.send("PRIVMSG dave :from bob")
    await dave.expect(r"PRIVMSG dave :from bob")
    await dave.send("QUIT :bye")
    await dave.at_eof()

    dave2 = await connect("dave2", FULL_CAPS)
    assert await history(carol, "CHATHISTORY LATEST dave2 * 10") == []
    assert await history(dave2, "CHATHISTORY LATEST carol * 10") == []
    assert await history(bob, "CHATHISTORY LATEST dave2 * 10") == []
    # Under the old nicks the conversations are still there.
    assert texts(await history(carol, "CHATHISTORY LATEST dave * 10")) == ["hi dave"]
    assert texts(await history(bob, "CHATHISTORY LATEST dave * 10")) == ["from bob"]
