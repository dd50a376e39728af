"""Room modes (+o +v +t +n +m +i +k +l +b) and user modes, as operators and members see them."""

from __future__ import annotations

from support.irc import ClientFactory, IrcClient


async def room_with(connect: ClientFactory, *nicks: str) -> list[IrcClient]:
    """Clients in #room; the first one is its operator and has seen everyone join."""
    clients = [await connect(nick) for nick in nicks]
    for client in clients:
        await client.join("#room")
    if len(clients) > 1:
        await clients[0].expect(rf"^:{nicks[-1]}!\S+ JOIN ")
    return clients


async def test_mode_query_shows_flags_key_and_limit(connect: ClientFactory) -> None:
    op, _ = await room_with(connect, "op", "guest")
    await op.send("MODE #room +kl secret 10")
    await op.expect(r" MODE #room \+kl secret 10$")
    await op.send("MODE #room")
    assert (await op.expect(r" 324 ")).params[1:] == ("#room", "+ntkl", "secret", "10")
    await op.expect(r" 329 op #room \d+")
    outsider = await connect("outsider")
    await outsider.send("MODE #room")
    assert (await outsider.expect(r" 324 ")).params[1:] == ("#room", "+ntkl", "*", "10")


async def test_only_operators_change_room_modes(connect: ClientFactory) -> None:
    _, guest = await room_with(connect, "op", "guest")
    await guest.send("MODE #room +m")
    await guest.expect(r" 482 guest #room ")
    await guest.send("MODE #room +y")
    await guest.expect(r" 482 guest #room ")


async def test_unknown_room_mode_letter_answers_472(connect: ClientFactory) -> None:
    (op,) = await room_with(connect, "op")
    await op.send("MODE #room +y")
    await op.expect(r" 472 op y ")
    await op.send("MODE #nowhere +m")
    await op.expect(r" 403 op #nowhere ")


async def test_op_and_voice_show_in_names_and_let_the_holder_act(
    connect: ClientFactory,
) -> None:
    op, guest, third = await room_with(connect, "op", "guest", "third")
    await op.send("MODE #room +ov guest third")
    change = await third.expect(r" MODE #room ")
    assert (change.source, change.params) == ("op!~u@127.0.0.1", ("#room", "+ov", "guest", "third"))
    await guest.send("NAMES #room")
    assert (await guest.expect(r" 353 ")).params[-1].split() == ["@op", "@guest", "+third"]
    await guest.send("KICK #room third :now I can")
    await op.expect(r"^:guest!\S+ KICK #room third")
    await op.send("MODE #room -o guest")
    await guest.expect(r" MODE #room -o guest")
    await guest.send("MODE #room +m")
    await guest.expect(r" 482 guest #room ")


async def test_mode_o_on_someone_not_in_the_room_answers_441_or_401(
    connect: ClientFactory,
) -> None:
    (op,) = await room_with(connect, "op")
    await connect("elsewhere")
    await op.send("MODE #room +o elsewhere")
    await op.expect(r" 441 op elsewhere #room ")
    await op.send("MODE #room +o nobody")
    await op.expect(r" 401 op nobody ")
    await op.send("MODE #room +o")
    await op.expect(r" 461 op MODE ")


async def test_moderated_room_lets_only_voiced_and_operators_speak(
    connect: ClientFactory,
) -> None:
    op, guest, voiced = await room_with(connect, "op", "guest", "voiced")
    await op.send("MODE #room +mv voiced")
    await guest.expect(r" MODE #room \+mv voiced")
    await guest.send("PRIVMSG #room :can I talk?")
    await guest.expect(r" 404 guest #room ")
    await voiced.send("PRIVMSG #room :I can")
    await guest.expect(r"^:voiced!\S+ PRIVMSG #room :I can$")
    await op.send("PRIVMSG #room :so can I")
    await guest.expect(r"^:op!\S+ PRIVMSG #room :so can I$")
    # Both read past lines sent after the refused one, so a relayed copy would be
    # among what they saw.
    await op.expect(r"^:voiced!\S+ PRIVMSG #room :I can$")
    await voiced.expect(r"^:op!\S+ PRIVMSG #room :so can I$")
    assert not any("can I talk?" in line for line in op.seen + voiced.seen)


async def test_no_external_messages_can_be_turned_off(connect: ClientFactory) -> None:
    (op,) = await room_with(connect, "op")
    outsider = await connect("outsider")
    await outsider.send("PRIVMSG #room :from outside")
    await outsider.expect(r" 404 outsider #room ")
    await op.send("MODE #room -n")
    await op.expect(r" MODE #room -n")
    await outsider.send("PRIVMSG #room :from outside")
    await op.expect(r"^:outsider!\S+ PRIVMSG #room :from outside$")


async def test_invite_only_room_refuses_with_473(connect: ClientFactory) -> None:
    (op,) = await room_with(connect, "op")
    await op.send("MODE #room +i")
    await op.expect(r" MODE #room \+i")
    guest = await connect("guest")
    await guest.send("JOIN #room")
    await guest.expect(r" 473 guest #room ")
    await op.send("MODE #room -i")
    await op.expect(r" MODE #room -i")
    await guest.join("#room")


async def test_key_is_needed_to_join_with_475_and_can_be_removed(
    connect: ClientFactory,
) -> None:
    (op,) = await room_with(connect, "op")
    await op.send("MODE #room +k hunter2")
    await op.expect(r" MODE #room \+k hunter2")
    guest = await connect("guest")
    await guest.send("JOIN #room")
    await guest.expect(r" 475 guest #room ")
    await guest.send("JOIN #room wrong")
    await guest.expect(r" 475 guest #room ")
    await guest.send("JOIN #room hunter2")
    await guest.expect(r" 366 guest #room ")
    await op.send("MODE #room -k")
    await op.expect(r" MODE #room -k")
    await op.send("MODE #room +k :bad key")
    await op.expect(r" 525 op #room ")


async def test_limit_refuses_with_471_when_the_room_is_full(connect: ClientFactory) -> None:
    op, guest = await room_with(connect, "op", "guest")
    await op.send("MODE #room +l 2")
    await guest.expect(r" MODE #room \+l 2")
    late = await connect("late")
    await late.send("JOIN #room")
    await late.expect(r" 471 late #room ")
    await op.send("MODE #room +l zero")
    await op.expect(r" 696 op #room l zero ")
    await op.send("MODE #room -l")
    await guest.expect(r" MODE #room -l")
    await late.join("#room")


async def test_ban_by_mask_stops_joining_and_speaking(connect: ClientFactory) -> None:
    op, guest = await room_with(connect, "op", "guest")
    await op.send("MODE #room +b guest!*@127.0.0.*")
    await guest.expect(r" MODE #room \+b guest!\*@127\.0\.0\.\*")
    await guest.send("PRIVMSG #room :still talking")
    await guest.expect(r" 404 guest #room ")
    await guest.send("PART #room")
    await op.expect(r"^:guest!\S+ PART ")
    await guest.send("JOIN #room")
    await guest.expect(r" 474 guest #room ")
    other = await connect("other")
    await other.join("#room")

    await op.send("MODE #room +b")
    ban = await op.expect(r" 367 ")
    assert ban.params[1:4] == ("#room", "guest!*@127.0.0.*", "op!~u@127.0.0.1")
    await op.expect(r" 368 op #room ")
    await op.send("MODE #room -b guest!*@127.0.0.*")
    await op.expect(r" MODE #room -b ")
    await guest.join("#room")


async def test_a_partial_ban_mask_is_completed_and_matches_case_insensitively(
    connect: ClientFactory,
) -> None:
    (op,) = await room_with(connect, "op")
    await op.send("MODE #room +b GUEST")
    await op.expect(r" MODE #room \+b GUEST!\*@\*$")
    guest = await connect("guest")
    await guest.send("JOIN #room")
    await guest.expect(r" 474 guest #room ")


async def test_an_invite_gets_past_a_ban_and_a_key(connect: ClientFactory) -> None:
    (op,) = await room_with(connect, "op")
    guest = await connect("guest")
    await op.send("MODE #room +bk guest secret")
    await op.expect(r" MODE #room \+bk ")
    await op.send("INVITE guest #room")
    await guest.expect(r" INVITE guest #room")
    await guest.join("#room")


async def test_user_mode_i_query_221_and_others_502(connect: ClientFactory) -> None:
    alice = await connect("alice")
    await connect("bob")
    await alice.send("MODE alice")
    assert (await alice.expect(r" 221 ")).params[-1] == "+"
    await alice.send("MODE alice +i")
    await alice.expect(r"^:alice!\S+ MODE alice :?\+i$")
    await alice.send("MODE alice")
    assert (await alice.expect(r" 221 ")).params[-1] == "+i"
    await alice.send("MODE bob +i")
    await alice.expect(r" 502 alice ")
    await alice.send("MODE alice +z")
    await alice.expect(r" 501 alice ")
    await alice.send("MODE nobody")
    await alice.expect(r" 401 alice nobody ")


async def test_invisible_users_are_hidden_from_who_masks(connect: ClientFactory) -> None:
    alice = await connect("alice")
    shy = await connect("shy")
    await shy.send("MODE shy +i")
    await shy.expect(r" MODE shy ")
    await alice.send("WHO s*")
    await alice.expect(r" 315 ")
    assert not any(" 352 " in line for line in alice.seen)
    await alice.send("WHO a*")
    assert (await alice.expect(r" 352 ")).params[5] == "alice"


async def test_an_invite_is_for_the_person_not_for_whoever_takes_the_nick_next(
    connect: ClientFactory,
) -> None:
    (op,) = await room_with(connect, "op")
    await op.send("MODE #room +i")
    await op.expect(r" MODE #room \+i")
    guest = await connect("guest")
    await op.send("INVITE guest #room")
    await guest.expect(r" INVITE guest #room")
    await guest.send("NICK renamed")
    await guest.expect(r" NICK :?renamed")
    impostor = await connect("guest")
    await impostor.send("JOIN #room")
    await impostor.expect(r" 473 guest #room ")
    # The invite went with the person under the new nick.
    await guest.join("#room")
    await guest.send("PART #room")
    await op.expect(r"^:renamed!\S+ PART #room")
    # It is used up by joining once.
    await guest.send("JOIN #room")
    await guest.expect(r" 473 renamed #room ")
