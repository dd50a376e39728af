"""IRC operators over real sockets: OPER, KILL, WALLOPS, REHASH and what non-operators get."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from support.hermetic import hermetic_env
from support.irc import ClientFactory, IrcClient
from support.servers import ServerProcess, make_config

from chat_server.app import ChatServer
from chat_server.config import OperBlock

PASSWORD = "s3cret-pass"
HASH = PasswordHasher().hash(PASSWORD)


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    """The shared `connect` fixture's server, with two [[opers]] blocks."""
    config = make_config()
    config.opers = (OperBlock("admin", HASH), OperBlock("faraway", HASH, "*@10.9.9.*"))
    srv = ChatServer(config)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def oper_up(client: IrcClient) -> None:
    await client.send(f"OPER admin {PASSWORD}")
    await client.expect(rf" 381 {client.nick} ")
    await client.expect(rf"^:{client.nick}!\S+ MODE {client.nick} :?\+o$")


async def test_oper_with_the_right_password_gives_381_and_mode_o(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await oper_up(alice)
    await bob.send("WHOIS alice")
    await bob.expect(r" 313 bob alice :is an IRC operator")
    await bob.send("WHO alice")
    assert (await bob.expect(r" 352 ")).params[6] == "H*"
    await bob.send("LUSERS")
    await bob.expect(r" 252 bob 1 ")


async def test_oper_failures_say_why_and_change_nothing(connect: ClientFactory) -> None:
    alice = await connect("alice")
    await alice.send("OPER admin wrong")
    await alice.expect(r" 464 alice ")
    await alice.send("OPER nobody " + PASSWORD)
    await alice.expect(r" 464 alice ")
    await alice.send("OPER faraway " + PASSWORD)  # the block is for 10.9.9.*
    await alice.expect(r" 491 alice ")
    await alice.send("OPER admin")
    await alice.expect(r" 461 alice OPER ")
    await alice.send("MODE alice +o")  # +o comes from OPER only
    await alice.send("MODE alice")
    assert (await alice.expect(r" 221 ")).params[1] == "+"


@pytest.mark.parametrize("command", ["KILL bob :go away", "WALLOPS :hello all", "REHASH"])
async def test_operator_commands_from_others_get_481(
    connect: ClientFactory, command: str
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.send(command)
    await alice.expect(r" 481 alice ")
    await bob.send("PING :still-here")
    await bob.expect(r" PONG \S+ :?still-here")


async def test_kill_disconnects_the_victim_and_room_mates_see_the_quit(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    carol = await connect("carol")
    await oper_up(alice)
    await bob.join("#room")
    await carol.join("#room")
    await alice.send("KILL bob :spamming")
    rest = await bob.at_eof()
    assert rest[-1] == "ERROR :Closing Link: 127.0.0.1 (Killed (alice (spamming)))"
    quit_ = await carol.expect(r"^:bob!\S+ QUIT ")
    assert quit_.params == ("Killed (alice (spamming))",)
    await alice.send("KILL nobody :x")
    await alice.expect(r" 401 alice nobody ")
    await alice.send("WHOIS bob")
    await alice.expect(r" 401 alice bob ")


async def test_wallops_reach_only_users_with_mode_w(connect: ClientFactory) -> None:
    alice = await connect("alice")
    listener = await connect("listener")
    other = await connect("other")
    await listener.send("MODE listener +w")
    await listener.expect(r" MODE listener :?\+w$")
    await oper_up(alice)
    await alice.send("WALLOPS :maintenance at noon")
    got = await listener.expect(r" WALLOPS ")
    assert (got.source, got.params) == ("alice!~u@127.0.0.1", ("maintenance at noon",))
    await other.send("PING :after")
    line = await other.expect(r" PONG ")
    assert "WALLOPS" not in " ".join(other.seen), line


def write_config(path: Path, name: str) -> None:
    path.write_text(f'[store]\nbackend = "memory"\n\n[[opers]]\nname = "{name}"\n'
                    f'password = "{HASH}"\n')


async def test_rehash_reads_the_opers_blocks_again(tmp_path: Path) -> None:
    config = tmp_path / "roomchat.toml"
    write_config(config, "first")
    proc = ServerProcess(["--config", str(config)])
    try:
        client = await IrcClient.connect("127.0.0.1", proc.port)
        await client.register("alice")
        await client.send(f"OPER first {PASSWORD}")
        await client.expect(r" 381 alice ")
        write_config(config, "second")
        await client.send("REHASH")
        await client.expect(r" 382 alice ")
        await client.send("MODE alice -o")
        await client.expect(r" MODE alice :?-o$")
        # The reload runs beside the connection: retry until the new block is read.
        for _ in range(50):
            await client.send(f"OPER second {PASSWORD}")
            if (await client.expect(r" (381|464) alice ")).command == "381":
                break
        else:
            raise AssertionError("the new [[opers]] block was never read")
        await client.send(f"OPER first {PASSWORD}")
        await client.expect(r" 464 alice ")  # that block is gone from the file
        await client.close()
    finally:
        proc.stop()


def test_hash_password_reads_stdin_and_prints_a_hash_that_verifies(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "chat_server", "hash-password"],
                          input="hunter2\n", capture_output=True, text=True,
                          env=hermetic_env(tmp_path), timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.strip()
    assert printed.startswith("$argon2id$")
    assert PasswordHasher().verify(printed, "hunter2")
    empty = subprocess.run([sys.executable, "-m", "chat_server", "hash-password"],
                           input="", capture_output=True, text=True,
                           env=hermetic_env(tmp_path), timeout=30, check=False)
    assert empty.returncode == 2
    assert empty.stderr.strip() == "chat-server: hash-password: empty password"
    argv = subprocess.run([sys.executable, "-m", "chat_server", "hash-password", "hunter2"],
                          capture_output=True, text=True, env=hermetic_env(tmp_path),
                          timeout=30, check=False)
    assert argv.returncode == 2  # never from the command line
    assert "unrecognized arguments" in argv.stderr
