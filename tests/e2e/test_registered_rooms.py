"""Registered rooms over real sockets: ChanServ REGISTER by a logged-in operator, the
room keeping its topic, modes, key, limit, bans and access list once it empties and
across a restart of a real server process, the founder and access-list accounts
getting their status back on joining, and the answers to bad requests. People make
accounts and log in with NickServ."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from support.irc import ClientFactory, IrcClient
from support.servers import ServerProcess

from chat_server.protocol.message import parse_line

FROM_CHANSERV = r"^:ChanServ!ChanServ@\S+ NOTICE "
PASSWORD = "correct-horse-battery"


async def register_account(client: IrcClient) -> None:
    """An account named after the client's nick, the client logged in to it."""
    await client.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    await client.expect(rf" 900 {client.nick} \S+ {client.nick} ", timeout=20)


async def log_in(client: IrcClient) -> None:
    await client.send(f"PRIVMSG NickServ :IDENTIFY {client.nick} {PASSWORD}")
    await client.expect(rf" 900 {client.nick} \S+ {client.nick} ", timeout=20)


async def chanserv(client: IrcClient, text: str, answer: str) -> None:
    await client.send(f"PRIVMSG ChanServ :{text}")
    await client.expect(FROM_CHANSERV + rf"{client.nick} :{answer}")


def names_of(client: IrcClient, room: str) -> list[str]:
    """The nicks of the last NAMES of `room` the client read, with their prefixes."""
    rows = [m for m in map(parse_line, client.seen) if m.command == "353" and m.param(2) == room]
    return rows[-1].param(3).split() if rows else []


async def test_a_registered_room_keeps_its_settings_and_gives_status_back_on_join(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    await register_account(alice)
    await alice.join("#dev")
    await alice.send("TOPIC #dev :the dev room")
    await alice.expect(r" TOPIC #dev :the dev room$")
    await alice.send("MODE #dev +mkl sesame 10")
    await alice.expect(r" MODE #dev \+mkl sesame 10$")
    await alice.send("MODE #dev +b spammer!*@*")
    await alice.expect(r" MODE #dev \+b spammer!\*@\*$")
    await chanserv(alice, "REGISTER #dev", "#dev is now registered to your account alice")
    bob = await connect("bob")
    await register_account(bob)
    await chanserv(alice, "AMODE #dev +v bob", "bob now gets \\+v in #dev")
    await alice.send("PART #dev")
    await alice.expect(r" PART #dev")

    # The room is empty: the first one in is not its founder, and gets no +o.
    carol = await connect("carol")
    await carol.send("JOIN #dev")
    await carol.expect(r" 475 carol #dev ")
    await carol.send("JOIN #dev sesame")
    await carol.expect(r" 332 carol #dev :the dev room$")
    await carol.expect(r" 366 carol #dev ")
    assert names_of(carol, "#dev") == ["carol"]
    await carol.send("MODE #dev")
    assert (await carol.expect(r" 324 ")).params[1:] == ("#dev", "+mntkl", "sesame", "10")
    await carol.send("MODE #dev b")
    await carol.expect(r" 367 carol #dev spammer!\*@\* alice!")
    await carol.send("MODE #dev -m")
    await carol.expect(r" 482 carol #dev ")

    # The founder needs no key, and ChanServ gives her +o; the +v account gets +v
    # (and, as on Ergo, still needs the key).
    await alice.join("#dev")
    assert names_of(alice, "#dev") == ["carol", "@alice"]
    await carol.expect(r"^:ChanServ!ChanServ@\S+ MODE #dev \+o alice$")
    await bob.send("JOIN #dev")
    await bob.expect(r" 475 bob #dev ")
    await bob.send("JOIN #dev sesame")
    await bob.expect(r" 366 bob #dev ")
    assert names_of(bob, "#dev") == ["carol", "@alice", "+bob"]
    await carol.expect(r"^:ChanServ!ChanServ@\S+ MODE #dev \+v bob$")
    await chanserv(carol, "INFO #dev", "#dev is registered")
    await carol.expect(FROM_CHANSERV + r"carol :Founder: alice$")


async def test_chanserv_op_and_deop_are_mode_changes_everyone_sees(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    await register_account(alice)
    await alice.join("#dev")
    await chanserv(alice, "REGISTER #dev", "#dev is now registered")
    carol = await connect("carol")
    await carol.join("#dev")
    await chanserv(alice, "OP #dev carol", "carol is now an operator of #dev")
    await carol.expect(r"^:ChanServ!ChanServ@\S+ MODE #dev \+o carol$")
    await alice.send("CS DEOP #dev carol")
    await carol.expect(r"^:ChanServ!ChanServ@\S+ MODE #dev -o carol$")
    await chanserv(carol, "OP #dev", "You are not logged in to an account")
    await register_account(carol)
    await chanserv(carol, "OP #dev",
                   "Only the founder of #dev and accounts with \\+o on its access list")


async def test_bad_requests_get_a_clear_notice_and_the_connection_stays_usable(
    connect: ClientFactory,
) -> None:
    carol = await connect("carol")
    await carol.join("#dev")
    await chanserv(carol, "REGISTER #dev", "You are not logged in to an account")
    bob = await connect("bob")
    await register_account(bob)
    await bob.join("#dev")
    await chanserv(bob, "REGISTER #dev", "You must be an operator of #dev to register it")
    await carol.send("MODE #dev +o bob")
    await bob.expect(r" MODE #dev \+o bob$")
    await chanserv(bob, "REGISTER #dev", "#dev is now registered to your account bob")
    alice = await connect("alice")
    await register_account(alice)
    await alice.join("#dev")
    await bob.send("MODE #dev +o alice")
    await alice.expect(r" MODE #dev \+o alice$")
    await chanserv(alice, "REGISTER #dev", "#dev is already registered \\(founder: bob\\)")
    await chanserv(alice, "AMODE #dev +o alice",
                   "Only the founder of #dev \\(bob\\) may change its access list")
    await chanserv(bob, "AMODE #dev +o nobody", "No such account nobody")
    await chanserv(bob, "DROP #elsewhere", "#elsewhere is not registered")
    await chanserv(alice, "FLY #dev", "Unknown command FLY; /msg ChanServ HELP lists them")
    await alice.send("PING :still here")
    await alice.expect(r" PONG \S+ :?still here$")


async def connected(server: ServerProcess, nick: str) -> IrcClient:
    client = await IrcClient.connect("127.0.0.1", server.port)
    await client.register(nick)
    return client


async def test_a_registered_room_and_its_access_list_survive_a_restart(tmp_path: Path) -> None:
    env = {"ROOMCHAT_STORE_BACKEND": "sqlite",
           "ROOMCHAT_STORE_DATA_DIR": str(tmp_path / "data")}
    first = ServerProcess([], env=env)
    try:
        alice = await connected(first, "alice")
        await register_account(alice)
        bob = await connected(first, "bob")
        await register_account(bob)
        await alice.join("#dev")
        await alice.send("TOPIC #dev :the dev room")
        await alice.expect(r" TOPIC #dev :the dev room$")
        await chanserv(alice, "REGISTER #dev", "#dev is now registered to your account alice")
        # Changed after the registration: the record follows.
        await alice.send("MODE #dev +mkl sesame 10")
        await alice.expect(r" MODE #dev \+mkl sesame 10$")
        await alice.send("MODE #dev +b spammer!*@*")
        await alice.expect(r" MODE #dev \+b spammer!\*@\*$")
        await chanserv(alice, "AMODE #dev +v bob", "bob now gets \\+v in #dev")
        await alice.close()
        await bob.close()
        first.proc.send_signal(signal.SIGTERM)
        log = await asyncio.to_thread(first.rest_of_log, 15)
        assert first.proc.returncode == 0, log
    finally:
        first.stop()

    second = ServerProcess([], env=env)
    try:
        carol = await connected(second, "carol")
        await carol.send("JOIN #dev")
        await carol.expect(r" 475 carol #dev ")
        await carol.send("JOIN #dev sesame")
        await carol.expect(r" 332 carol #dev :the dev room$")
        await carol.expect(r" 366 carol #dev ")
        assert names_of(carol, "#dev") == ["carol"]  # first in, but not the founder
        await carol.send("MODE #dev")
        assert (await carol.expect(r" 324 ")).params[1:] == ("#dev", "+mntkl", "sesame", "10")
        await carol.send("MODE #dev b")
        await carol.expect(r" 367 carol #dev spammer!\*@\* alice!")

        alice = await connected(second, "alice")
        await log_in(alice)
        await alice.join("#dev")
        assert names_of(alice, "#dev") == ["carol", "@alice"]
        await carol.expect(r"^:ChanServ!ChanServ@\S+ MODE #dev \+o alice$")
        bob = await connected(second, "bob")
        await log_in(bob)
        await bob.send("JOIN #dev sesame")
        await bob.expect(r" 366 bob #dev ")
        assert names_of(bob, "#dev") == ["carol", "@alice", "+bob"]
        await carol.expect(r"^:ChanServ!ChanServ@\S+ MODE #dev \+v bob$")
        await alice.send("PRIVMSG ChanServ :AMODE #dev")
        await alice.expect(FROM_CHANSERV + r"alice :Access list of #dev: 1 account ")
        await alice.expect(FROM_CHANSERV + r"alice :bob gets \+v$")
        for client in (carol, alice, bob):
            await client.close()
    finally:
        second.stop()
