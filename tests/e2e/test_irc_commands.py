"""Rooms, messages and people: the replies real IRC clients expect, over real sockets."""

from __future__ import annotations

from support.irc import ClientFactory


async def test_first_user_into_an_empty_room_becomes_its_operator(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.send("JOIN #room")
    assert (await alice.expect(r" 353 ")).params[-1] == "@alice"
    await bob.send("JOIN #room")
    assert (await bob.expect(r" 353 ")).params[-1].split() == ["@alice", "bob"]
    await alice.send("PART #room")
    await bob.expect(r"^:alice!\S+ PART #room")
    await bob.send("PART #room")
    await bob.expect(r"^:bob!\S+ PART #room")
    await bob.send("JOIN #room")
    assert (await bob.expect(r" 353 ")).params[-1] == "@bob"


async def test_join_several_rooms_with_keys_and_join_0_leaves_them_all(
    connect: ClientFactory,
) -> None:
    op = await connect("op")
    await op.join("#locked")
    await op.send("MODE #locked +k secret")
    await op.expect(r" MODE #locked \+k secret")
    guest = await connect("guest")
    await guest.send("JOIN #open,#locked,#other x,secret")
    for room in ("#open", "#locked", "#other"):
        await guest.expect(rf"^:guest!\S+ JOIN :?{room}$")
        await guest.expect(rf" 366 guest {room} ")
    await guest.send("JOIN 0")
    parted = set()
    for _ in range(3):
        parted.add((await guest.expect(r"^:guest!\S+ PART ")).params[0])
    assert parted == {"#open", "#locked", "#other"}
    await op.expect(r"^:guest!\S+ PART #locked")
    await guest.send("NAMES #open")
    assert (await guest.expect(r" 366 ")).params[1] == "#open"
    assert not any(" 353 " in line and "#open" in line for line in guest.seen[-3:])


async def test_join_refuses_a_bad_room_name_with_476(connect: ClientFactory) -> None:
    client = await connect("alice")
    await client.send("JOIN lobby")
    await client.expect(r" 476 alice lobby ")


async def test_part_errors_403_and_442(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#room")
    await bob.send("PART #nowhere")
    await bob.expect(r" 403 bob #nowhere ")
    await bob.send("PART #room")
    await bob.expect(r" 442 bob #room ")


async def test_privmsg_and_notice_reach_rooms_and_nicks(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#room")
    await bob.join("#room")
    await alice.send("PRIVMSG #room,bob :hello both")
    room_msg = await bob.expect(r" PRIVMSG #room ")
    private = await bob.expect(r" PRIVMSG bob ")
    assert room_msg.params[-1] == private.params[-1] == "hello both"
    await bob.send("NOTICE alice :psst")
    notice = await alice.expect(r" NOTICE ")
    assert (notice.source, notice.params) == ("bob!~u@127.0.0.1", ("alice", "psst"))
    # The sender does not get its own room message back without echo-message.
    await alice.send("PING :sync")
    await alice.expect(r" PONG ")
    assert not any("hello both" in line for line in alice.seen)


async def test_a_target_named_twice_in_any_case_gets_the_message_once(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.send("PRIVMSG bob,BOB,Bob :only once")
    await alice.send("PRIVMSG bob :marker")
    await bob.expect(r" PRIVMSG bob :?marker$")
    assert sum("only once" in line for line in bob.seen) == 1


async def test_privmsg_errors_401_403_404_411_412_407(connect: ClientFactory) -> None:
    alice = await connect("alice")
    op = await connect("op")
    await op.join("#closed")
    await alice.send("PRIVMSG nobody :hi")
    await alice.expect(r" 401 alice nobody ")
    await alice.send("PRIVMSG #nowhere :hi")
    await alice.expect(r" 403 alice #nowhere ")
    await alice.send("PRIVMSG #closed :let me in")  # +n: members only
    await alice.expect(r" 404 alice #closed ")
    await alice.send("PRIVMSG")
    await alice.expect(r" 411 alice ")
    await alice.send("PRIVMSG op")
    await alice.expect(r" 412 alice ")
    await alice.send("PRIVMSG a,b,c,d,e :too many")
    await alice.expect(r" 407 alice ")


async def test_notice_never_gets_an_error_reply(connect: ClientFactory) -> None:
    alice = await connect("alice")
    op = await connect("op")
    await op.join("#closed")
    for line in ("NOTICE nobody :hi", "NOTICE #nowhere :hi", "NOTICE #closed :hi",
                 "NOTICE", "NOTICE op", "NOTICE a,b,c,d,e :hi"):
        await alice.send(line)
    await alice.send("PING :done")
    await alice.expect(r" PONG ")
    replies = [line for line in alice.seen if " 001 " not in line]
    assert not any(f" {n} " in line for line in replies
                   for n in ("401", "403", "404", "407", "411", "412"))


async def test_topic_shows_setter_and_time_and_needs_op_with_plus_t(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#room")
    await bob.join("#room")
    await bob.send("TOPIC #room")
    await bob.expect(r" 331 bob #room ")
    await bob.send("TOPIC #room :mine now")
    await bob.expect(r" 482 bob #room ")
    await alice.send("TOPIC #room :release on Friday")
    await bob.expect(r"^:alice!\S+ TOPIC #room :release on Friday$")
    await bob.send("TOPIC #room")
    assert (await bob.expect(r" 332 ")).params[1:] == ("#room", "release on Friday")
    whotime = await bob.expect(r" 333 ")
    assert whotime.params[2] == "alice!~u@127.0.0.1"
    assert int(whotime.params[3]) > 1_600_000_000
    carol = await connect("carol")
    await carol.send("JOIN #room")
    assert (await carol.expect(r" 332 ")).params[-1] == "release on Friday"
    await carol.expect(r" 333 ")
    await alice.send("MODE #room -t")
    await bob.expect(r" MODE #room -t")
    await bob.send("TOPIC #room :anyone may")
    await alice.expect(r"^:bob!\S+ TOPIC #room :anyone may$")


async def test_names_and_list(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#big")
    await bob.join("#big")
    await bob.join("#small")
    await alice.send("TOPIC #big :the big one")
    await alice.expect(r" TOPIC ")
    await alice.send("NAMES #big")
    assert (await alice.expect(r" 353 alice = #big ")).params[-1].split() == ["@alice", "bob"]
    await alice.expect(r" 366 alice #big ")
    await alice.send("LIST")
    await alice.expect(r" 321 ")
    first = await alice.expect(r" 322 ")
    second = await alice.expect(r" 322 ")
    await alice.expect(r" 323 ")
    assert first.params[1:3] == ("#big", "2")
    assert first.params[3].endswith("the big one")
    assert second.params[1:3] == ("#small", "1")
    await alice.send("LIST #small")
    assert (await alice.expect(r" 322 ")).params[1] == "#small"
    await alice.expect(r" 323 ")


async def test_who_lists_room_members_and_single_nicks(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#room")
    await bob.join("#room")
    await bob.send("AWAY :lunch")
    await bob.expect(r" 306 ")
    await alice.send("WHO #room")
    rows = [await alice.expect(r" 352 "), await alice.expect(r" 352 ")]
    await alice.expect(r" 315 alice #room ")
    by_nick = {row.params[5]: row for row in rows}
    assert by_nick["alice"].params[6] == "H@"
    assert by_nick["bob"].params[6] == "G"
    assert by_nick["bob"].params[2:4] == ("~u", "127.0.0.1")
    assert by_nick["bob"].params[-1] == "0 Test User bob"
    await alice.send("WHO bob")
    assert (await alice.expect(r" 352 ")).params[5] == "bob"
    await alice.expect(r" 315 alice bob ")


async def test_whois_and_whowas(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await bob.join("#room")
    await bob.send("AWAY :gone fishing")
    await bob.expect(r" 306 ")
    await alice.send("WHOIS bob")
    user = await alice.expect(r" 311 ")
    assert user.params[1:4] == ("bob", "~u", "127.0.0.1")
    assert user.params[-1] == "Test User bob"
    assert (await alice.expect(r" 319 ")).params[-1] == "@#room"
    await alice.expect(r" 312 alice bob roomchat.local ")
    assert (await alice.expect(r" 301 ")).params[-1] == "gone fishing"
    await alice.expect(r" 317 alice bob ")
    await alice.expect(r" 318 alice bob ")
    await alice.send("WHOIS nobody")
    await alice.expect(r" 401 alice nobody ")
    await alice.expect(r" 318 alice nobody ")

    await bob.send("QUIT")
    await bob.at_eof()
    await alice.send("WHOWAS bob")
    was = await alice.expect(r" 314 ")
    assert was.params[1:4] == ("bob", "~u", "127.0.0.1")
    await alice.expect(r" 369 alice bob ")
    await alice.send("WHOWAS nobody")
    await alice.expect(r" 406 alice nobody ")
    await alice.expect(r" 369 alice nobody ")


async def test_away_305_306_and_rpl_away_on_private_messages_only(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#room")
    await bob.join("#room")
    await bob.send("AWAY :back at 5")
    await bob.expect(r" 306 bob ")
    await alice.send("PRIVMSG bob :are you there?")
    assert (await alice.expect(r" 301 ")).params[1:] == ("bob", "back at 5")
    await alice.send("PRIVMSG #room :room message")
    await alice.send("NOTICE bob :a notice")
    await alice.send("PING :sync")
    await alice.expect(r" PONG ")
    assert sum(" 301 " in line for line in alice.seen) == 1
    await bob.send("AWAY")
    await bob.expect(r" 305 bob ")
    await alice.send("PRIVMSG bob :now?")
    await alice.send("PING :sync2")
    await alice.expect(r" PONG \S+ :?sync2")
    assert sum(" 301 " in line for line in alice.seen) == 1


async def test_kick_errors_and_the_kicked_user_sees_why(connect: ClientFactory) -> None:
    op = await connect("op")
    guest = await connect("guest")
    await op.join("#room")
    await guest.join("#room")
    await op.send("KICK #room nobody")
    await op.expect(r" 441 op nobody #room ")
    await op.send("KICK #elsewhere guest")
    await op.expect(r" 403 op #elsewhere ")
    await op.send("KICK #room guest")
    kick = await guest.expect(r" KICK ")
    assert kick.params == ("#room", "guest", "op")


async def test_invite_lets_someone_into_an_invite_only_room(connect: ClientFactory) -> None:
    op = await connect("op")
    guest = await connect("guest")
    await op.join("#club")
    await op.send("MODE #club +i")
    await op.expect(r" MODE #club \+i")
    await guest.send("JOIN #club")
    await guest.expect(r" 473 guest #club ")
    await op.send("INVITE nobody #club")
    await op.expect(r" 401 op nobody ")
    await op.send("INVITE guest #club")
    assert (await op.expect(r" 341 ")).params[1:] == ("guest", "#club")
    invite = await guest.expect(r" INVITE ")
    assert (invite.source, invite.params) == ("op!~u@127.0.0.1", ("guest", "#club"))
    await guest.join("#club")
    await op.send("INVITE guest #club")
    await op.expect(r" 443 op guest #club ")


async def test_only_operators_invite_into_invite_only_rooms(connect: ClientFactory) -> None:
    op = await connect("op")
    member = await connect("member")
    await connect("friend")
    await op.join("#club")
    await member.join("#club")
    await op.send("MODE #club +i")
    await member.expect(r" MODE #club \+i")
    await member.send("INVITE friend #club")
    await member.expect(r" 482 member #club ")


async def test_ison_and_userhost(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await bob.send("AWAY :out")
    await bob.expect(r" 306 ")
    await alice.send("ISON bob nobody ALICE")
    assert (await alice.expect(r" 303 ")).params[-1].split() == ["bob", "alice"]
    await alice.send("USERHOST alice bob nobody")
    assert (await alice.expect(r" 302 ")).params[-1].split() == [
        "alice=+~u@127.0.0.1", "bob=-~u@127.0.0.1",
    ]
