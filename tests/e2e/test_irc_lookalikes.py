"""Look-alike nicknames and room names over real sockets: the same name for uniqueness,
shown as typed."""

from __future__ import annotations

from support.irc import ClientFactory

CYRILLIC_E = "\u0435"
CYRILLIC_O = "\u043e"


async def test_a_nick_that_only_looks_like_a_taken_one_is_refused(
    connect: ClientFactory,
) -> None:
    await connect("evan")
    impostor = await connect()
    await impostor.send(f"NICK {CYRILLIC_E}van")
    await impostor.send("USER u 0 * :u")
    refused = await impostor.expect(r" 433 ")
    assert refused.params[1] == f"{CYRILLIC_E}van"
    await impostor.send("NICK someone")
    await impostor.expect(r" 001 someone ")
    await impostor.send(f"NICK {CYRILLIC_E}VAN")
    await impostor.expect(r" 433 someone ")


async def test_a_lookalike_nick_is_shown_as_typed_when_free(connect: ClientFactory) -> None:
    nick = f"{CYRILLIC_E}lena"
    her = await connect(nick)
    other = await connect("other")
    await other.send("WHOIS elena")  # the same name as far as the server is concerned
    assert (await other.expect(r" 311 ")).params[1] == nick
    await her.send("PRIVMSG other :hi")
    assert (await other.expect(r" PRIVMSG other ")).source.split("!")[0] == nick


async def test_a_lookalike_room_name_is_the_same_room(connect: ClientFactory) -> None:
    first = await connect("first")
    await first.join("#lobby")
    second = await connect("second")
    await second.send(f"JOIN #l{CYRILLIC_O}bby")
    joined = await second.expect(r" JOIN ")
    assert joined.params[0] == "#lobby"  # the room as it was named first
    seen = await first.expect(r":second!\S+ JOIN ")
    assert seen.params[0] == "#lobby"
    await second.send("PRIVMSG #lobby :same room")
    await first.expect(r" PRIVMSG #lobby :?same room$")
