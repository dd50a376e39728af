"""No byte from one client forges a line at another; Unicode names work, bad ones are refused."""

from __future__ import annotations

import pytest
from support.irc import ClientFactory, IrcClient

from chat_server.hub.events import (
    AwayChanged,
    Chat,
    Closing,
    Event,
    Kicked,
    Parted,
    Quit,
    Reply,
    TopicChanged,
    make_source,
)
from chat_server.hub.hub import Hub, HubSettings
from chat_server.protocol.message import parse_line
from chat_server.session.irc import IrcSession

FORGED = ":evil!e@forged PRIVMSG victim :forged"


async def pair_in_room(connect: ClientFactory) -> tuple[IrcClient, IrcClient]:
    sender = await connect("sender")
    victim = await connect("victim", caps=("message-tags",))
    await sender.join("#room")
    await victim.join("#room")
    await sender.expect(r"victim!\S+ JOIN ")
    return sender, victim


def assert_nothing_forged(client: IrcClient) -> None:
    for line in client.seen:
        assert "\r" not in line and "\0" not in line, line
        msg = parse_line(line)
        assert msg.source != "evil!e@forged", line
        assert msg.command != "PRIVMSG" or msg.source == "sender!~u@127.0.0.1", line


@pytest.mark.parametrize("breaker_text", ["\r", "\0", "\r\0", "\x85", "\u2028"])
async def test_line_breakers_inside_a_message_never_forge_a_line_at_the_receiver(
    connect: ClientFactory, breaker_text: str
) -> None:
    sender, victim = await pair_in_room(connect)
    breaker = breaker_text.encode()
    forged = FORGED.encode()
    hostile = [
        b"PRIVMSG #room :hello" + breaker + forged + b"\r\n",
        b"PRIVMSG #room,victim :x" + breaker + b"\r\n" + forged + b"\r\n",
        b"TOPIC #room :t" + breaker + forged + b"\r\n",
        b"AWAY :a" + breaker + forged + b"\r\n",
        b"@+draft/x=a\\r\\n" + forged.replace(b" ", b"\\s") + b" PRIVMSG #room :tagged\r\n",
        b"PART #room :bye" + breaker + forged + b"\r\n",
        b"JOIN #room\r\n",
        b"KICK #room nobody :k" + breaker + forged + b"\r\n",
    ]
    for data in hostile:
        await sender.send_raw(data)
    await sender.send("PRIVMSG #room :end-of-test")
    await victim.expect(r"PRIVMSG #room :?end-of-test$")
    assert_nothing_forged(victim)
    # The lone LF in the second line ended it: what followed is a line of its own
    # that the sender typed, and it arrived with the sender's prefix or not at all.


async def test_quit_reason_with_breakers_reaches_the_room_as_one_line(
    connect: ClientFactory,
) -> None:
    sender, victim = await pair_in_room(connect)
    await sender.send_raw(b"QUIT :gone\r" + FORGED.encode() + b"\r\n")
    await sender.send_raw(b"QUIT :gone\0" + FORGED.encode() + b"\r\n")
    await sender.send("QUIT :really gone")
    await victim.expect(r" QUIT :?Quit: really gone$")
    assert_nothing_forged(victim)


def render_all(events: list[Event]) -> list[bytes]:
    class Link:
        remote_host = "127.0.0.1"
        secure = False
        certfp = ""

        def write(self, data: bytes) -> None: ...

        def close(self, reason: str = "") -> None: ...

    session = IrcSession(Hub(HubSettings()), Link())
    return [session.render(event) for event in events]


@pytest.mark.parametrize("breaker", ["\r", "\n", "\0", "\r\n"])
def test_every_event_renders_as_exactly_one_line_whatever_its_fields_hold(
    breaker: str,
) -> None:
    bad = f"x{breaker}{FORGED}"
    source = make_source("n" + breaker, "u" + breaker, "h" + breaker)
    rendered = render_all([
        Chat(source, "PRIVMSG", "#room" + breaker, bad, "id" + breaker, 0.0, True),
        TopicChanged(source, "#room", bad, 0.0),
        Parted(source, "#room", bad, 0.0),
        Quit(source, bad, 0.0),
        Kicked(source, "#room", "nick" + breaker, bad, 0.0),
        AwayChanged(source, bad, 0.0),
        Reply("401", (bad, bad)),
        Closing(bad),
    ])
    for data in rendered:
        assert data.endswith(b"\r\n")
        body = data[:-2]
        assert b"\r" not in body and b"\n" not in body and b"\0" not in body, data


# -- Unicode names -------------------------------------------------------------------


async def test_chinese_nicks_and_rooms_work_end_to_end(connect: ClientFactory) -> None:
    zhang = await connect("张三")
    li = await connect("李四")
    await zhang.join("#讨论")
    await li.join("#讨论")
    await zhang.expect(r"^:李四!\S+ JOIN :?#讨论$")
    await li.send("PRIVMSG #讨论 :你好")
    msg = await zhang.expect(r" PRIVMSG ")
    assert (msg.source, msg.params) == ("李四!~u@127.0.0.1", ("#讨论", "你好"))
    await li.send("PRIVMSG 张三 :私聊")
    assert (await zhang.expect(r" PRIVMSG 张三 ")).params[-1] == "私聊"
    await li.send("NAMES #讨论")
    assert (await li.expect(r" 353 ")).params[-1].split() == ["@张三", "李四"]


async def test_unicode_names_compare_case_insensitively(connect: ClientFactory) -> None:
    strasse = await connect("Straße")
    other = await connect()
    for clash in ("STRASSE", "straße", "ＳＴＲＡＳＳＥ"):
        await other.send(f"NICK {clash}")
        await other.expect(rf" 433 \* {clash} ")
    await other.send("NICK Ärger")
    await other.send("USER u 0 * :u")
    await other.expect(r" 001 Ärger ")
    await strasse.join("#Café")
    await other.send("JOIN #CAFÉ")
    # The room keeps the name it was created with.
    await other.expect(r" 366 Ärger #Café ")
    await strasse.send("PRIVMSG äRGER :found you")
    assert (await other.expect(r" PRIVMSG ")).params == ("Ärger", "found you")
    await other.send("WHOIS strasse")
    assert (await other.expect(r" 311 ")).params[1] == "Straße"


@pytest.mark.parametrize(
    "nick",
    ["bad\x07bell", "a,b", "a:b", "a*b", "a?b", "a!b", "a@b", "#room", "9lives",
     "right\u202eleft", "no\u3000space", "ＡＢ！", "x" * 31],
)
async def test_bad_nicks_are_refused_with_432(connect: ClientFactory, nick: str) -> None:
    client = await connect()
    await client.send_raw(b"NICK :" + nick.encode() + b"\r\n")
    refused = await client.expect(r" 432 ")
    assert refused.params[1] == nick
    await client.send("NICK fine")
    await client.send("USER u 0 * :u")
    await client.expect(r" 001 fine ")


async def test_nick_with_a_space_is_refused(connect: ClientFactory) -> None:
    client = await connect("alice")
    await client.send("NICK :two words")
    await client.expect(r" 432 alice ")
    await client.send("WHOIS alice")
    await client.expect(r" 311 alice alice ")


@pytest.mark.parametrize(
    "room",
    ["#bad\x07bell", "#a:b", "#a*b", "#a?b", "#a!b", "#a@b", "#", "room",
     "#right\u202eleft", "#" + "x" * 64],
)
async def test_bad_room_names_are_refused_with_476(connect: ClientFactory, room: str) -> None:
    client = await connect("alice")
    await client.send_raw(b"JOIN " + room.encode() + b"\r\n")
    refused = await client.expect(r" 476 ")
    assert refused.params[1] == room
    assert not any(" JOIN " in line for line in client.seen)


async def test_a_comma_splits_targets_instead_of_joining_a_room_with_a_comma(
    connect: ClientFactory,
) -> None:
    client = await connect("alice")
    await client.send("JOIN #a,b")
    await client.expect(r" 366 alice #a ")
    await client.expect(r" 476 alice b ")


async def test_a_line_with_nul_or_cr_inside_is_answered_and_the_connection_kept(
    connect: ClientFactory,
) -> None:
    sender, victim = await pair_in_room(connect)
    await sender.send_raw(b"PRIVMSG #room :a\0b\r\n")
    reply = await sender.expect(r" 400 ")
    assert "Malformed line" in reply.params[-1]
    await sender.send("PRIVMSG #room :after")
    await victim.expect(r"PRIVMSG #room :?after$")
    said = [m.params[-1] for m in map(parse_line, victim.seen) if m.command == "PRIVMSG"]
    assert said == ["after"]
