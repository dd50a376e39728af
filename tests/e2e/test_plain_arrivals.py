"""Arrivals and departures in a room reach netcat users as one line per tick, while IRC
clients keep every JOIN, PART and QUIT (docs/PLAIN-MODE.md, "Arrivals and departures")."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from support.irc import IrcClient
from support.plain import PlainClient, PlainFactory, plain_clients_of
from support.servers import running_server

from chat_server.app import ChatServer

# Long enough that a handful of IRC registrations fall in one tick on a busy machine.
TICK = 1.5


@pytest.fixture
async def slow_tick() -> AsyncIterator[ChatServer]:
    async with running_server(plain_join_coalesce=TICK, plain_join_names=3) as srv:
        yield srv


@pytest.fixture
async def plain(slow_tick: ChatServer) -> AsyncIterator[PlainFactory]:
    async with plain_clients_of(slow_tick) as factory:
        yield factory


IrcFactory = Callable[..., Awaitable[IrcClient]]


@asynccontextmanager
async def irc_clients_of(server: ChatServer) -> AsyncIterator[IrcFactory]:
    """irc("bob", "#lobby"): registered as bob, in #lobby."""
    opened: list[IrcClient] = []

    async def factory(nick: str, *rooms: str) -> IrcClient:
        host, port = server.addresses[0]
        client = await IrcClient.connect(host, port)
        opened.append(client)
        await client.register(nick)
        for room in rooms:
            await client.join(room)
        return client

    try:
        yield factory
    finally:
        for client in opened:
            await client.close()


@pytest.fixture
async def irc(slow_tick: ChatServer) -> AsyncIterator[IrcFactory]:
    async with irc_clients_of(slow_tick) as factory:
        yield factory


async def settled(client: PlainClient, line: str) -> None:
    """Read `client` up to `line`, its own welcome lines included."""
    await client.expect(r"(^|\] )" + re.escape(line) + "$", timeout=TICK + 5)


async def test_arrivals_within_a_tick_read_as_one_line_but_irc_gets_every_join(
    irc: IrcFactory, plain: PlainFactory
) -> None:
    zhang = await plain("张三")
    bob = await irc("bob", "#lobby")
    await settled(zhang, "#lobby * bob joined.")
    newcomers = [await irc(nick, "#lobby") for nick in ("ann", "cy", "dee")]
    for nick in ("ann", "cy", "dee"):
        await bob.expect(rf"^:{nick}!\S+ JOIN #lobby$")
    assert await zhang.next(timeout=TICK + 5) == "#lobby * ann, cy, dee joined."
    # Above plain_join_names the line counts the rest; /who lists everyone.
    more = [await irc(nick, "#lobby") for nick in ("eve", "fay", "gus", "hal")]
    assert await zhang.next(timeout=TICK + 5) == "#lobby * eve, fay, gus and 1 other joined."
    for client in (*newcomers, *more):
        await client.send("QUIT :bye")
    for nick in ("ann", "cy", "dee", "eve", "fay", "gus", "hal"):
        await bob.expect(rf"^:{nick}!\S+ QUIT ")
    assert await zhang.next(timeout=TICK + 5) == (
        "#lobby * ann, cy, dee and 4 others have quit.")


async def test_a_newcomers_words_come_after_the_line_announcing_them(
    irc: IrcFactory, plain: PlainFactory
) -> None:
    zhang = await plain("张三")
    carol = await irc("carol", "#lobby")
    await carol.send("PRIVMSG #lobby :hi all")
    assert await zhang.next() == "#lobby * carol joined."
    assert await zhang.next() == "#lobby <carol> hi all"
    dan = await irc("dan", "#lobby")
    await dan.send("PRIVMSG 张三 :psst")
    assert await zhang.next() == "#lobby * dan joined."
    assert await zhang.next() == "<- dan: psst"
    await dan.send("NICK daniel")
    ed = await irc("ed", "#lobby")
    await ed.send("NICK edward")
    assert await zhang.next() == "* dan is now known as daniel."
    assert await zhang.next() == "#lobby * ed joined."
    assert await zhang.next() == "* ed is now known as edward."


async def test_a_newcomer_reads_only_who_came_after_their_welcome(
    irc: IrcFactory, plain: PlainFactory
) -> None:
    zhang = await plain("张三")
    await irc("ann", "#lobby")
    lisi = await plain()
    welcome = await lisi.choose_nick("李四")
    assert "#lobby with" in welcome and "ann" in welcome and "张三" in welcome, welcome
    bo = await irc("bo", "#lobby")
    await bo.send("PRIVMSG #lobby :hello")
    assert await zhang.next() == "#lobby * ann, 李四, bo joined."
    assert await zhang.next() == "#lobby <bo> hello"
    assert await lisi.next() == "#lobby * bo joined."
    assert await lisi.next() == "#lobby <bo> hello"


async def test_someone_who_comes_and_goes_within_a_tick_is_not_announced(
    irc: IrcFactory, plain: PlainFactory
) -> None:
    zhang = await plain("张三")
    bob = await irc("bob", "#lobby")
    await settled(zhang, "#lobby * bob joined.")
    flit = await irc("flit", "#lobby")
    await flit.send("QUIT :oops")
    await bob.expect(r"^:flit!\S+ QUIT ")
    stay = await irc("stay", "#lobby")
    await bob.expect(r"^:stay!\S+ JOIN ")
    await bob.send("PRIVMSG #lobby :anyone?")
    assert await zhang.next() == "#lobby * stay joined."
    assert await zhang.next() == "#lobby <bob> anyone?"
    await stay.send("PART #lobby :later")
    await bob.expect(r"^:stay!\S+ PART ")
    assert await zhang.next(timeout=TICK + 5) == "#lobby * stay left (later)."


async def test_a_single_arrival_in_a_quiet_room_shows_within_the_tick() -> None:
    async with (running_server() as server, plain_clients_of(server) as default_plain,
                irc_clients_of(server) as irc):
        tick = server.config.limits.plain_join_coalesce
        assert 0 < tick <= 0.25
        zhang = await default_plain("张三")
        loop = asyncio.get_running_loop()
        await irc("bob", "#lobby")
        joined = loop.time()
        assert await zhang.next(timeout=5) == "#lobby * bob joined."
        # A tick and the machine's slack; an arrival never waits for a second one.
        assert loop.time() - joined < tick + 1.0


async def test_a_room_of_netcat_users_only_and_an_irc_client_coming_and_going() -> None:
    # Arrivals into a room where everyone reads per tick are held without a walk over
    # the room; an IRC member, once there, is told of each at once again.
    async with (running_server() as server, plain_clients_of(server) as plain,
                irc_clients_of(server) as irc):
        zhang = await plain("张三")
        lisi = await plain("李四")
        assert await zhang.next() == "#lobby * 李四 joined."
        await lisi.send("/quit lunch")
        assert await zhang.next() == "* 李四 has quit (Quit: lunch)."
        bob = await irc("bob", "#lobby")
        assert await zhang.next() == "#lobby * bob joined."
        await plain("王五")
        await bob.expect(r"^:王五!\S+ JOIN #lobby$")
        assert await zhang.next() == "#lobby * 王五 joined."
        await bob.send("QUIT :bye")
        assert await zhang.next() == "* bob has quit (Quit: bye)."
        await plain("赵六")
        assert await zhang.next() == "#lobby * 赵六 joined."
