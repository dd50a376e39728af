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


async def test_client_only_tags_reach_message_tags_clients_and_server_tags_do_not(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice", caps=("message-tags",))
    tagged = await connect("tagged", caps=("message-tags",))
    plain = await connect("plain")
    for client in (alice, tagged, plain):
        await client.join("#room")
    await alice.expect(r":plain!\S+ JOIN #room")
    await alice.send("@+draft/reply=abc;fizz=buzz PRIVMSG #room :hi")
    got = await tagged.expect(r" PRIVMSG #room :?hi$")
    assert got.tags["+draft/reply"] == "abc" and "fizz" not in got.tags
    bare = await plain.expect(r" PRIVMSG #room :?hi$")
    assert bare.tags == {}
    await alice.send("@+typing=active TAGMSG #room")
    typing = await tagged.expect(r" TAGMSG #room$")
    assert (typing.source, typing.tags["+typing"]) == ("alice!~u@127.0.0.1", "active")
    assert "msgid" in typing.tags
    await alice.send("PRIVMSG #room :after")
    await plain.expect(r" PRIVMSG #room :?after$")
    assert not any("TAGMSG" in line for line in plain.seen)


async def test_client_tag_data_past_4094_bytes_is_refused_with_417(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice", caps=("message-tags",))
    bob = await connect("bob", caps=("message-tags",))
    fits = "@+x=" + "a" * (4094 - 3)
    await alice.send(f"{fits} TAGMSG bob")
    assert len((await bob.expect(r" TAGMSG bob$")).tags["+x"]) == 4091
    await alice.send(f"{fits}a TAGMSG bob")
    await alice.expect(r" 417 alice ")
    await alice.send("PRIVMSG bob :next")
    await bob.expect(r" PRIVMSG bob :?next$")
    assert sum("TAGMSG" in line for line in bob.seen) == 1


async def test_invalid_utf8_is_refused_with_fail_and_not_relayed(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.send_raw(b"PRIVMSG bob :hi\xaa\r\n")
    fail = await alice.expect(r" FAIL ")
    assert fail.params[:2] == ("PRIVMSG", "INVALID_UTF8")
    await alice.send("PRIVMSG bob :clean")
    await bob.expect(r" PRIVMSG bob :?clean$")
    assert not any(" PRIVMSG bob :hi" in line for line in bob.seen)


async def test_whox_gives_the_asked_fields_in_whox_order_with_the_token(
    connect: ClientFactory,
) -> None:
    asker = await connect("asker")
    await connect("target")
    await asker.send("WHO target %rnt,42")
    row = await asker.expect(r" 354 ")
    assert row.params == ("asker", "42", "target", "Test User target")
    await asker.expect(r" 315 asker target ")


async def test_a_bot_is_flagged_in_whois_and_who_and_its_messages_carry_the_bot_tag(
    connect: ClientFactory,
) -> None:
    bot = await connect("bot")
    watcher = await connect("watcher", caps=("message-tags",))
    await bot.send("MODE bot +B")
    await bot.expect(r" MODE bot :?\+B$")
    await watcher.send("WHOIS bot")
    await watcher.expect(r" 335 watcher bot ")
    await watcher.send("WHO bot")
    assert "B" in (await watcher.expect(r" 352 ")).params[6]
    await bot.send("PRIVMSG watcher :beep")
    got = await watcher.expect(r" PRIVMSG watcher :?beep$")
    assert "bot" in got.tags


async def test_help_comes_from_the_command_table(connect: ClientFactory) -> None:
    client = await connect("someone")
    await client.send("HELP privmsg")
    start = await client.expect(r" 704 ")
    assert start.params[1] == "PRIVMSG" and "PRIVMSG TARGET" in start.params[2]
    assert (await client.expect(r" 705 ")).params[2] == "Send a message to rooms or people."
    await client.expect(r" 706 someone PRIVMSG ")
    await client.send("HELPOP nosuchthing")
    await client.expect(r" 524 someone NOSUCHTHING ")
    await client.send("HELP")
    index = await client.expect(r" 705 ")
    assert "CHATHISTORY" in index.params[2]


async def test_monitor_reports_arrivals_nick_changes_and_quits(connect: ClientFactory) -> None:
    watcher = await connect("watcher")
    await watcher.send("MONITOR + friend,*!bad@mask")
    await watcher.expect(r" 432 watcher \*!bad@mask ")
    assert (await watcher.expect(r" 731 ")).params[1] == "friend"
    friend = await connect("friend")
    assert (await watcher.expect(r" 730 ")).params[1] == "friend!~u@127.0.0.1"
    await friend.send("NICK elsewhere")
    assert (await watcher.expect(r" 731 ")).params[1] == "friend"
    await friend.send("NICK friend")
    await watcher.expect(r" 730 watcher :?friend!")
    await watcher.send("MONITOR L")
    assert (await watcher.expect(r" 732 ")).params[1] == "friend"
    await watcher.expect(r" 733 watcher ")
    await friend.send("QUIT")
    assert (await watcher.expect(r" 731 ")).params[1] == "friend"


async def test_extended_monitor_sends_away_changes_of_a_watched_nick(
    connect: ClientFactory,
) -> None:
    watcher = await connect("watcher", caps=("extended-monitor", "away-notify"))
    other = await connect("other")
    await watcher.send("MONITOR + other")
    await watcher.expect(r" 730 ")
    await other.send("AWAY :lunch")
    got = await watcher.expect(r" AWAY ")
    assert (got.source, got.params) == ("other!~u@127.0.0.1", ("lunch",))


LABELED = ("labeled-response", "batch", "message-tags", "echo-message")


async def test_a_labeled_command_gets_its_label_on_one_line_an_ack_or_a_batch(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice", caps=LABELED)
    bob = await connect("bob", caps=LABELED)
    await alice.send("@label=one PING :x")
    pong = await alice.expect(r" PONG ")
    assert pong.tags["label"] == "one"
    await alice.send("@label=two PONG :x")
    ack = await alice.expect(r" ACK$")
    assert ack.tags == {"label": "two"}
    await bob.join("#room")
    await alice.send("@label=three JOIN #room")
    start = await alice.expect(r" BATCH \+\S+ labeled-response$")
    assert start.tags["label"] == "three"
    ref = start.params[0][1:]
    joined = await alice.expect(r" JOIN #room$")
    assert joined.tags["batch"] == ref
    await alice.expect(rf" BATCH -{ref}$")
    await alice.send("@label=four PRIVMSG #room :hello")
    echo = await alice.expect(r" PRIVMSG #room :?hello$")
    assert echo.tags["label"] == "four"
    got = await bob.expect(r" PRIVMSG #room :?hello$")
    assert "label" not in got.tags and got.tags["msgid"] == echo.tags["msgid"]


async def test_list_filters_by_mask_people_and_not_mask(connect: ClientFactory) -> None:
    op = await connect("op")
    await op.join("#alpha")
    await op.join("#beta")
    await op.join("#gamma")
    other = await connect("other")
    await other.join("#beta")
    asker = await connect("asker")

    async def listed(arg: str) -> set[str]:
        await asker.send(f"LIST {arg}")
        rooms = set()
        while (line := await asker.expect(r" (322|323) ")).command == "322":
            rooms.add(line.params[1])
        return rooms

    assert await listed("#a*") == {"#alpha"}
    assert await listed("!#a*") == {"#beta", "#gamma"}
    assert await listed(">1") == {"#beta"}
    assert await listed("<2") == {"#alpha", "#gamma"}
    assert await listed("C<10") == {"#alpha", "#beta", "#gamma"}
    assert await listed("#gamma") == {"#gamma"}


async def test_ban_exceptions_and_invite_exceptions(connect: ClientFactory) -> None:
    op = await connect("op")
    await op.join("#room")
    await op.send("MODE #room +b ba*!*@*")
    await op.expect(r" MODE #room \+b ")
    await op.send("MODE #room +e bar!*@*")
    await op.expect(r" MODE #room \+e bar!\*@\*")
    baz = await connect("baz")
    await baz.send("JOIN #room")
    await baz.expect(r" 474 baz #room ")
    bar = await connect("bar")
    await bar.join("#room")
    await op.send("MODE #room +iI guest!*@*")
    await op.expect(r" MODE #room \+iI guest!\*@\*")
    guest = await connect("guest")
    await guest.join("#room")
    await baz.send("NICK other")
    await baz.expect(r" NICK :?other")
    await baz.send("JOIN #room")
    await baz.expect(r" 473 other #room ")
    await op.send("MODE #room +I")
    assert (await op.expect(r" 346 ")).params[1:3] == ("#room", "guest!*@*")
    await op.expect(r" 347 op #room ")
    await op.send("MODE #room e")
    assert (await op.expect(r" 348 ")).params[2] == "bar!*@*"
    await op.expect(r" 349 op #room ")


async def test_statusmsg_reaches_only_the_rooms_operators(connect: ClientFactory) -> None:
    op = await connect("op")
    await op.join("#room")
    member = await connect("member")
    await member.join("#room")
    await member.send("PRIVMSG @#room :psst ops")
    got = await op.expect(r" PRIVMSG ")
    assert got.params == ("@#room", "psst ops")
    await op.send("PRIVMSG #room :everyone")
    await member.expect(r" PRIVMSG #room :?everyone$")
    assert not any("psst" in line for line in member.seen)


async def test_setname_changes_the_realname_and_tells_setname_room_mates(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice", caps=("setname",))
    bob = await connect("bob", caps=("setname",))
    carol = await connect("carol")
    for client in (alice, bob, carol):
        await client.join("#room")
    await alice.expect(r":carol!\S+ JOIN")
    await alice.send("SETNAME :Alice Liddell")
    assert (await alice.expect(r" SETNAME ")).params == ("Alice Liddell",)
    got = await bob.expect(r" SETNAME ")
    assert (got.source, got.params) == ("alice!~u@127.0.0.1", ("Alice Liddell",))
    await carol.send("WHOIS alice")
    assert (await carol.expect(r" 311 ")).params[-1] == "Alice Liddell"
    assert not any("SETNAME" in line for line in carol.seen)
    await alice.send("SETNAME :")
    await alice.expect(r" FAIL SETNAME INVALID_REALNAME ")


async def test_names_of_several_rooms_ends_once_and_kick_takes_several_nicks(
    connect: ClientFactory,
) -> None:
    op = await connect("op")
    await op.join("#one")
    await op.join("#two")
    await op.send("NAMES #one,#two")
    rooms = [(await op.expect(r" 353 ")).params[2] for _ in range(2)]
    assert rooms == ["#one", "#two"]
    assert (await op.expect(r" 366 ")).params[1] == "#one,#two"
    first, second = await connect("first"), await connect("second")
    await first.join("#one")
    await second.join("#one")
    await op.expect(r":second!\S+ JOIN")
    await op.send("KICK #one first,second :out")
    assert (await op.expect(r" KICK ")).params[1] == "first"
    assert (await op.expect(r" KICK ")).params[1] == "second"


async def test_invite_without_parameters_lists_ones_invitations(
    connect: ClientFactory,
) -> None:
    op = await connect("op")
    await op.join("#room")
    guest = await connect("guest")
    await op.send("INVITE guest #room")
    await guest.expect(r" INVITE guest :?#room")
    await guest.send("INVITE")
    assert (await guest.expect(r" 336 ")).params[1] == "#room"
    await guest.expect(r" 337 guest ")


async def test_links_shows_this_server(connect: ClientFactory) -> None:
    client = await connect("someone")
    await client.send("LINKS")
    row = await client.expect(r" 364 ")
    assert row.params[1:] == ("roomchat.local", "roomchat.local", "0 roomchat server")
    await client.expect(r" 365 someone \* ")
