"""Behaviours irctest checks, over real sockets: away on join, LUSERS peaks, empty
USER fields, WHO masks and +i."""

from __future__ import annotations

from support.irc import ClientFactory


async def test_an_away_user_joining_is_announced_to_away_notify_members(
    connect: ClientFactory,
) -> None:
    watcher = await connect("watcher", caps=("away-notify",))
    await watcher.join("#room")
    sleeper = await connect("sleeper")
    await sleeper.send("AWAY :gone fishing")
    await sleeper.expect(r" 306 ")
    await sleeper.join("#room")
    await watcher.expect(r"^:sleeper!\S+ JOIN #room")
    away = await watcher.expect(r"^:sleeper!\S+ AWAY ")
    assert away.params == ("gone fishing",)


async def test_lusers_max_is_the_peak_not_the_current_count(connect: ClientFactory) -> None:
    first = await connect("first")
    second = await connect("second")
    await second.send("QUIT")
    await second.at_eof()
    await first.send("LUSERS")
    assert (await first.expect(r" 265 ")).params[1:3] == ("1", "2")
    assert (await first.expect(r" 266 ")).params[1:3] == ("1", "2")


async def test_user_with_an_empty_realname_gets_461(connect: ClientFactory) -> None:
    client = await connect()
    await client.send("NICK someone")
    await client.send("USER name * * :")
    await client.expect(r" 461 someone USER ")
    await client.send("USER :")
    await client.expect(r" 461 someone USER ")
    await client.send("USER name * * :Real Name")
    await client.expect(r" 001 someone ")


async def test_who_mask_shows_invisible_users_only_to_those_sharing_a_room(
    connect: ClientFactory,
) -> None:
    evan = await connect("evan")
    await evan.send("MODE evan +i")
    await evan.expect(r" MODE evan :?\+i")
    asker = await connect("asker")
    await asker.send("WHO eva*")
    assert (await asker.expect(r" (352|315) ")).command == "315"
    await evan.join("#room")
    await asker.join("#room")
    await asker.send("WHO eva*")
    assert (await asker.expect(r" (352|315) ")).params[5] == "evan"


async def test_a_secret_room_is_hidden_from_outsiders_in_list_names_and_whois(
    connect: ClientFactory,
) -> None:
    op = await connect("op")
    await op.join("#hidden")
    await op.join("#open")
    await op.send("MODE #hidden +s")
    await op.expect(r" MODE #hidden \+s")
    outsider = await connect("outsider")
    await outsider.send("LIST")
    listed = []
    while (line := await outsider.expect(r" (322|323) ")).command == "322":
        listed.append(line.params[1])
    assert listed == ["#open"]
    await outsider.send("NAMES #hidden")
    assert (await outsider.expect(r" (353|366) ")).command == "366"
    await outsider.send("WHOIS op")
    assert (await outsider.expect(r" 319 ")).params[-1].split() == ["@#open"]
    await op.send("NAMES #hidden")
    assert (await op.expect(r" 353 ")).params[1:3] == ("@", "#hidden")
