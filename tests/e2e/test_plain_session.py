"""A person at netcat on the IRC port: the session of docs/PLAIN-MODE.md, over real sockets."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator

import pytest
from support.clients import clients_of
from support.irc import ClientFactory
from support.plain import PlainFactory, plain_clients_of
from support.servers import running_server
from support.tools import require_tool

from chat_server.app import ChatServer
from chat_server.session.detect import SILENCE_SECONDS


@pytest.fixture
async def plain(server: ChatServer) -> AsyncIterator[PlainFactory]:
    async with plain_clients_of(server) as factory:
        yield factory


async def test_the_netcat_session_of_plain_mode_md_line_for_line() -> None:
    async with (
        running_server(server_name="example.org") as server,
        clients_of(server) as connect,
        plain_clients_of(server) as plain,
    ):
        lisi = await connect("李四")
        bob = await connect("bob")
        await lisi.join("#lobby")
        await bob.join("#lobby")
        await bob.join("#dev")
        await bob.send("TOPIC #dev :release on Friday")
        await bob.expect(r" TOPIC #dev ")

        zhang = await plain()
        assert await zhang.next() == "roomchat on example.org — 2 people in 2 rooms."
        assert await zhang.next() == "Pick a nickname:"
        await zhang.send("张三")
        assert await zhang.next() == (
            "Welcome, 张三. You are in #lobby with 李四, bob (3 people). "
            "Type /help for commands."
        )
        await lisi.expect(r"^:张三!\S+ JOIN #lobby$")
        await lisi.send("PRIVMSG #lobby :你好")
        assert await zhang.next() == "#lobby <李四> 你好"
        await zhang.send("hello everyone")
        assert await zhang.next() == "#lobby <张三> hello everyone"
        await zhang.send("/join dev")
        assert await zhang.next() == (
            "#dev * 张三 joined. Topic: release on Friday. People: bob, 张三"
        )
        await zhang.send("/me waves")
        assert await zhang.next() == "#dev * 张三 waves"
        await zhang.send("/msg 李四 are you coming?")
        assert await zhang.next() == "-> 李四: are you coming?"
        await lisi.expect(r"^:张三!\S+ PRIVMSG 李四 :are you coming\?$")
        await lisi.send("PRIVMSG 张三 :yes")
        assert await zhang.next() == "<- 李四: yes"
        await zhang.send("/quit bye")
        assert await zhang.next() == "* Goodbye."
        assert await zhang.at_eof() == []

        # The greeting, prompt and welcome are plain text; everything after is stamped.
        stamped = zhang.seen[3:]
        assert all(re.match(r"^\[\d\d:\d\d:\d\d\] ", line) for line in stamped), stamped
        quit_ = await bob.expect(r" QUIT ")
        assert quit_.source == "张三!~张三@127.0.0.1"
        assert quit_.params == ("Quit: bye",)


async def test_a_silent_connection_is_greeted_after_a_second(plain: PlainFactory) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    client = await plain()
    # Not before the second of silence an IRC client is given to speak first; then
    # soon (the bound allows a loaded machine, not the 30 s registration timeout).
    await client.expect(r"^Pick a nickname:$", timeout=SILENCE_SECONDS + 5)
    assert loop.time() - start >= SILENCE_SECONDS - 0.01
    assert client.seen[0].startswith("roomchat on roomchat.local — ")


async def test_a_nickname_typed_before_the_greeting_is_kept(plain: PlainFactory) -> None:
    client = await plain()
    await client.send_raw("\n\r\n张三\nhello\n".encode())
    assert await client.next() == "roomchat on roomchat.local — 0 people in 0 rooms."
    assert await client.next() == "Pick a nickname:"
    assert await client.next() == (
        "Welcome, 张三. You are in #lobby, on your own so far. Type /help for commands."
    )
    assert await client.next() == "#lobby <张三> hello"


async def test_an_irc_client_that_speaks_first_sees_only_irc(
    connect: ClientFactory, plain: PlainFactory
) -> None:
    irc = await connect()
    await irc.send_raw(b"\r\nCAP LS 302\r\n")
    await irc.expect(r"^:\S+ CAP \* LS :")
    # A plain connection opened after it is greeted a second later: by then the IRC
    # connection's own second of silence has passed too.
    late = await plain()
    await late.expect(r"^Pick a nickname:$")
    await irc.send("NICK alice")
    await irc.send("USER alice 0 * :Alice")
    await irc.send("CAP END")
    await irc.expect(r" 001 alice ")
    await irc.expect(r" (376|422) alice ")
    for line in irc.seen:
        assert re.match(r"^:\S+ (CAP|\d{3}) ", line), line


async def test_a_lower_case_first_word_is_a_person_not_irc(plain: PlainFactory) -> None:
    client = await plain()
    await client.send("nick bob")
    await client.expect(r"^Pick a nickname:$")
    line = await client.next()
    assert line.startswith("! nick bob cannot be a nickname ("), line
    assert line.endswith("); pick another:")


def _knows_q(nc: str) -> bool:
    """OpenBSD's and the traditional netcat know -q (quit after EOF); others do not."""
    usage = subprocess.run([nc, "-h"], capture_output=True, text=True, timeout=10)
    return re.search(r"\B-q\b", usage.stdout + usage.stderr) is not None


async def test_a_script_piped_through_netcat_reaches_an_irc_user(
    server: ChatServer, connect: ClientFactory
) -> None:
    nc = require_tool("nc", apt="netcat-openbsd", check=_knows_q, why="one that knows -q")
    ops = await connect("ops")
    await ops.join("#ops")
    host, port = server.addresses[0]
    script = "张三\n/join ops\ndeploy done\n/quit\n".encode()
    proc = await asyncio.create_subprocess_exec(
        nc, "-q1", host, str(port),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(script), 10)
    assert proc.returncode == 0, err
    shown = out.decode("utf-8").splitlines()
    msg = await ops.expect(r" PRIVMSG #ops ")
    assert msg.source == "张三!~张三@127.0.0.1"
    assert msg.params == ("#ops", "deploy done")
    assert shown[-1].endswith("] * Goodbye."), shown
