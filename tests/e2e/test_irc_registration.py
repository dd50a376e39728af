"""Getting onto the server: CAP, PASS, NICK, USER, the welcome burst, PING, QUIT, info."""

from __future__ import annotations

from pathlib import Path

from support.clients import server_and_clients
from support.irc import ClientFactory, IrcClient

from chat_server.protocol.message import parse_line


def isupport(client: IrcClient) -> dict[str, str]:
    """The ISUPPORT tokens among the lines the client has read so far."""
    tokens: dict[str, str] = {}
    for line in client.seen:
        msg = parse_line(line)
        if msg.command == "005":
            for token in msg.params[1:-1]:
                key, _, value = token.partition("=")
                tokens[key] = value
    return tokens


async def test_welcome_burst_is_001_to_005_then_lusers_then_no_motd(
    connect: ClientFactory,
) -> None:
    client = await connect()
    await client.send("NICK alice")
    await client.send("USER alice 0 * :Alice Liddell")
    welcome = await client.expect(r" 001 ")
    assert welcome.params[0] == "alice"
    assert welcome.params[-1].endswith("alice!~alice@127.0.0.1")
    await client.expect(r" 422 ")
    numerics = [parse_line(line).command for line in client.seen]
    assert numerics[:4] == ["001", "002", "003", "004"]
    assert numerics.index("251") > numerics.index("005")
    for numeric in ("252", "254", "255", "265", "266"):
        assert numeric in numerics
    assert numerics[-1] == "422"


async def test_isupport_advertises_what_clients_need(connect: ClientFactory) -> None:
    client = await connect("alice")
    tokens = isupport(client)
    assert tokens["NETWORK"] == "roomchat"
    assert tokens["CASEMAPPING"] == "rfc8265"
    assert tokens["CHANTYPES"] == "#"
    assert tokens["CHANMODES"] == "beI,k,l,imnst"
    assert tokens["PREFIX"] == "(ov)@+"
    assert tokens["MAXTARGETS"] == "4"
    for key in ("NICKLEN", "CHANNELLEN", "TOPICLEN", "KICKLEN", "AWAYLEN"):
        assert int(tokens[key]) > 0, key
    assert "UTF8ONLY" in tokens


async def test_motd_from_the_configured_file_is_sent_at_registration_and_on_request(
    tmp_path: Path,
) -> None:
    motd = tmp_path / "motd.txt"
    motd.write_text("Welcome to the test network\nBe nice\n", encoding="utf-8")
    async with server_and_clients(server_motd_file=str(motd)) as (_, connect):
        client = await connect("alice")
        lines = [parse_line(line) for line in client.seen]
        body = [m.params[-1] for m in lines if m.command == "372"]
        assert body == ["- Welcome to the test network", "- Be nice"]
        assert [m.command for m in lines if m.command in ("375", "376")] == ["375", "376"]
        await client.send("MOTD")
        await client.expect(r" 375 ")
        assert (await client.expect(r" 372 ")).params[-1] == "- Welcome to the test network"
        await client.expect(r" 376 ")


async def test_motd_command_without_a_motd_file_answers_422(connect: ClientFactory) -> None:
    client = await connect("alice")
    await client.send("MOTD")
    await client.expect(r" 422 alice :MOTD File is missing")


async def test_lusers_counts_users_unregistered_connections_and_rooms(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    await connect("bob")
    lurker = await connect()
    await lurker.send("PING :here")
    await lurker.expect(r" PONG ")
    await alice.join("#one")
    await alice.send("LUSERS")
    assert "There are 2 users" in (await alice.expect(r" 251 ")).params[-1]
    assert (await alice.expect(r" 253 ")).params[1] == "1"
    assert (await alice.expect(r" 254 ")).params[1] == "1"
    assert "I have 2 clients" in (await alice.expect(r" 255 ")).params[-1]


async def test_lusers_counts_invisible_users_until_they_leave(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await bob.send("MODE bob +i")
    await bob.expect(r" MODE bob :?\+i")
    await alice.send("LUSERS")
    assert (await alice.expect(r" 251 ")).params[-1] == (
        "There are 1 users and 1 invisible on 1 server"
    )
    await bob.send("QUIT")
    await bob.at_eof()
    await alice.send("LUSERS")
    assert (await alice.expect(r" 251 ")).params[-1] == (
        "There are 1 users and 0 invisible on 1 server"
    )


# -- CAP ---------------------------------------------------------------------------


async def test_cap_ls_302_holds_registration_until_cap_end(connect: ClientFactory) -> None:
    client = await connect()
    await client.send("CAP LS 302")
    ls = await client.expect(r" CAP \* LS ")
    offered = set(ls.params[-1].split())
    assert {"message-tags", "server-time", "echo-message", "multi-prefix",
            "userhost-in-names", "away-notify", "cap-notify", "batch"} <= offered
    await client.send("NICK alice")
    await client.send("USER alice 0 * :Alice")
    await client.send("PING :still-negotiating")
    await client.expect(r" PONG \S+ :?still-negotiating$")
    assert not any(" 001 " in line for line in client.seen)
    await client.send("CAP END")
    await client.expect(r" 001 alice ")


async def test_cap_req_acks_known_caps_and_naks_a_request_with_an_unknown_one(
    connect: ClientFactory,
) -> None:
    client = await connect()
    await client.send("CAP LS 302")
    await client.send("CAP REQ :multi-prefix server-time")
    ack = await client.expect(r" CAP \* ACK ")
    assert ack.params[-1] == "multi-prefix server-time"
    await client.send("CAP REQ :echo-message no-such-cap")
    nak = await client.expect(r" CAP \* NAK ")
    assert nak.params[-1] == "echo-message no-such-cap"
    await client.send("CAP LIST")
    listed = await client.expect(r" CAP \* LIST ")
    # 302 implies cap-notify; the NAKed request changed nothing.
    assert set(listed.params[-1].split()) == {"cap-notify", "multi-prefix", "server-time"}
    await client.send("CAP REQ -server-time")
    await client.expect(r" CAP \* ACK :?-server-time$")
    await client.send("CAP LIST")
    listed = await client.expect(r" CAP \* LIST ")
    assert "server-time" not in listed.params[-1].split()


async def test_cap_with_an_unknown_subcommand_answers_410(connect: ClientFactory) -> None:
    client = await connect()
    await client.send("CAP FROB")
    await client.expect(r" 410 \* FROB ")


async def test_cap_list_after_registration_uses_the_nick(connect: ClientFactory) -> None:
    client = await connect("alice", caps=("away-notify",))
    await client.send("CAP LIST")
    listed = await client.expect(r" CAP alice LIST ")
    assert "away-notify" in listed.params[-1].split()


# -- PASS --------------------------------------------------------------------------


async def test_server_password_admits_only_who_gives_it() -> None:
    async with server_and_clients(server_password="sesame") as (_, connect):
        good = await connect()
        await good.send("PASS sesame")
        await good.send("NICK alice")
        await good.send("USER alice 0 * :Alice")
        await good.expect(r" 001 alice ")

        for first_line in ("PASS wrong", None):
            bad = await connect()
            if first_line:
                await bad.send(first_line)
            await bad.send("NICK mallory")
            await bad.send("USER mallory 0 * :M")
            await bad.expect(r" 464 ")
            rest = await bad.at_eof()
            assert any(line.startswith("ERROR ") for line in rest)
            assert not any(" 001 " in line for line in bad.seen)


async def test_pass_after_registration_answers_462(connect: ClientFactory) -> None:
    client = await connect("alice")
    await client.send("PASS whatever")
    await client.expect(r" 462 alice ")


# -- NICK and USER -----------------------------------------------------------------


async def test_nick_errors_431_432_433(connect: ClientFactory) -> None:
    await connect("alice")
    client = await connect()
    await client.send("NICK")
    await client.expect(r" 431 \* ")
    await client.send("NICK 9lives")
    await client.expect(r" 432 \* 9lives ")
    await client.send("NICK ALICE")
    await client.expect(r" 433 \* ALICE ")
    await client.send("NICK bob")
    await client.send("USER bob 0 * :Bob")
    await client.expect(r" 001 bob ")
    await client.send("NICK Alice")
    await client.expect(r" 433 bob Alice ")


async def test_nick_change_that_only_changes_case_is_seen_by_the_room(
    connect: ClientFactory,
) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#room")
    await bob.join("#room")
    await alice.send("NICK ALICE")
    await alice.expect(r"^:alice!\S+ NICK :?ALICE$")
    await bob.expect(r"^:alice!\S+ NICK :?ALICE$")
    await bob.send("WHOIS alice")
    assert (await bob.expect(r" 311 ")).params[1] == "ALICE"
    carol = await connect()
    await carol.send("NICK alice")
    await carol.expect(r" 433 ")


async def test_user_needs_four_parameters_and_only_once(connect: ClientFactory) -> None:
    client = await connect()
    await client.send("NICK alice")
    await client.send("USER alice 0")
    await client.expect(r" 461 alice USER ")
    await client.send("USER alice 0 * :Alice")
    await client.expect(r" 001 alice ")
    await client.send("USER again 0 * :Again")
    await client.expect(r" 462 alice ")


async def test_commands_before_registration_answer_451(connect: ClientFactory) -> None:
    client = await connect()
    await client.send("JOIN #room")
    await client.expect(r" 451 \* ")
    await client.send("FROB")
    await client.expect(r" 451 \* ")


async def test_unknown_command_after_registration_answers_421(connect: ClientFactory) -> None:
    client = await connect("alice")
    await client.send("FROB x")
    await client.expect(r" 421 alice FROB ")


# -- PING, PONG, QUIT ----------------------------------------------------------------


async def test_client_ping_gets_pong_with_its_token(connect: ClientFactory) -> None:
    client = await connect("alice")
    await client.send("PING :abc 123")
    pong = await client.expect(r" PONG ")
    assert pong.params == ("roomchat.local", "abc 123")
    await client.send("PING")
    await client.expect(r" 409 alice ")


async def test_idle_client_is_pinged_and_stays_if_it_answers_and_is_dropped_if_not() -> None:
    # Pinged soon, but given time to answer that a loaded machine cannot use up: the
    # answering client must never be the one dropped.
    async with server_and_clients(ping_interval=0.3, ping_timeout=1.5) as (server, connect):
        answers = await connect("answers")
        silent = await connect("silent")
        await answers.join("#room")
        await silent.join("#room")
        pings_answered = 0
        quit_ = None
        while quit_ is None or pings_answered < 3:
            msg = await answers.expect(r" (PING|QUIT) ", timeout=10)
            if msg.command == "PING":
                await answers.send(f"PONG :{msg.params[-1]}")
                pings_answered += 1
            else:
                quit_ = msg
        assert quit_.source == "silent!~u@127.0.0.1"
        assert quit_.params[0].startswith("Ping timeout")
        rest = await silent.at_eof(timeout=10)
        assert rest[0].endswith(" PING roomchat.local")
        assert rest[-1].startswith("ERROR :Closing Link: 127.0.0.1 (Ping timeout")
        assert server.hub.find_user("answers") is not None


async def test_quit_says_goodbye_and_tells_the_room(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join("#room")
    await bob.join("#room")
    await bob.send("QUIT")
    assert (await alice.expect(r"^:bob!\S+ QUIT ")).params == ("Quit",)
    rest = await bob.at_eof()
    assert rest[-1].startswith("ERROR :Closing Link: 127.0.0.1 (Quit)")


# -- information -------------------------------------------------------------------


async def test_version_and_time(connect: ClientFactory) -> None:
    client = await connect("alice")
    await client.send("VERSION")
    version = await client.expect(r" 351 ")
    assert version.params[1].startswith("roomchat-")
    await client.expect(r" 005 ")
    await client.send("TIME")
    time_ = await client.expect(r" 391 ")
    assert time_.params[1] == "roomchat.local"
    assert "+00:00" in time_.params[-1]
