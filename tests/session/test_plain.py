"""PlainSession driven by plain calls on a real hub: what a netcat user reads for each event."""

from __future__ import annotations

import re

import pytest
from support.plain import FakeLink, irc_user, new_hub, plain_user, untimed

from chat_server.hub.commands import COMMANDS
from chat_server.hub.events import ServerMessage
from chat_server.hub.hub import Hub, HubSettings
from chat_server.protocol.message import Message
from chat_server.protocol.plain import clock
from chat_server.session.plain import HELP_ORDER, PLAIN_COMMANDS, PlainSession

STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")


def said(link: FakeLink) -> list[str]:
    """What the user read since last time, every conversational line stamped."""
    lines = link.take()
    for line in lines:
        assert STAMP.match(line) or line.startswith("! "), line
    return [untimed(line) for line in lines]


def test_greeting_counts_people_and_rooms_then_asks_for_a_nickname() -> None:
    hub = new_hub()
    irc_user(hub, "bob")
    link = FakeLink()
    PlainSession(hub, link, "#lobby")
    assert link.take() == ["roomchat on example.org — 1 person in 0 rooms.", "Pick a nickname:"]


def test_nickname_prompt_asks_again_until_a_free_valid_one() -> None:
    hub = new_hub()
    irc_user(hub, "李四")
    link = FakeLink()
    zhang = PlainSession(hub, link, "lobby")
    link.take()
    zhang.on_line("李四".encode())
    zhang.on_line(b"9lives")
    zhang.on_line(b"/join dev")
    zhang.on_line(b"\xff\xfe")
    assert link.take() == [
        "! Nickname 李四 is taken; pick another:",
        "! 9lives cannot be a nickname (no spaces or , : * ? ! @, and no # or digit first); "
        "pick another:",
        "! Pick a nickname first:",
        "! That was not valid UTF-8; pick another:",
    ]
    assert not zhang.ready
    zhang.on_line("张三".encode())
    assert zhang.ready
    assert link.take() == [
        "Welcome, 张三. You are in #lobby, on your own so far. Type /help for commands."
    ]
    assert zhang.user.source.prefix == "张三!~张三@127.0.0.1"
    assert zhang.user.caps == frozenset({"echo-message"})


def test_room_events_from_an_irc_user_read_as_one_line_each() -> None:
    hub = new_hub()
    bob, _ = irc_user(hub, "bob")
    carol, _ = irc_user(hub, "carol")
    bob.on_line(b"JOIN #lobby")
    carol.on_line(b"JOIN #lobby")
    zhang, link = plain_user(hub, "张三")
    bob.on_line(b"PRIVMSG #lobby :hi there")
    bob.on_line(b"PRIVMSG #lobby :\x01ACTION waves\x01")
    bob.on_line(b"PRIVMSG #lobby :\x01VERSION\x01")
    bob.on_line(b"NOTICE #lobby :note \x02this\x02")
    bob.on_line(b"TOPIC #lobby :release on Friday")
    bob.on_line(b"TOPIC #lobby :")
    bob.on_line("MODE #lobby +v 张三".encode())
    bob.on_line(b"NICK robert")
    carol.on_line(b"PART #lobby :lunch")
    carol.on_line(b"JOIN #lobby")
    bob.on_line("KICK #lobby 张三 :behave".encode())
    assert said(link) == [
        "#lobby <bob> hi there",
        "#lobby * bob waves",
        "#lobby -bob- note this",
        "#lobby * bob set the topic: release on Friday",
        "#lobby * bob cleared the topic.",
        "#lobby * bob sets mode +v 张三",
        "* bob is now known as robert.",
        "#lobby * carol left (lunch).",
        "#lobby * carol joined.",
        "#lobby * robert kicked 张三 (behave).",
    ]
    zhang.on_line(b"still here?")
    assert said(link) == [
        "! You are not in #lobby any more; /join it again or /switch to another "
        "(you are in: none)."
    ]


def test_private_messages_notices_away_and_quits() -> None:
    hub = new_hub()
    bob, _ = irc_user(hub, "bob")
    zhang, link = plain_user(hub, "张三")
    bob.on_line("PRIVMSG 张三 :yes".encode())
    bob.on_line("PRIVMSG 张三 :\x01ACTION nods\x01".encode())
    bob.on_line("NOTICE 张三 :psst".encode())
    zhang.on_line(b"/msg bob are you coming?")
    bob.on_line(b"AWAY :at lunch")
    zhang.on_line(b"/msg bob hello?")
    zhang.on_line(b"/away brb")
    zhang.on_line(b"/away")
    assert said(link) == [
        "<- bob: yes",
        "<- * bob nods",
        "<- -bob- psst",
        "-> bob: are you coming?",
        "-> bob: hello?",
        "* bob is away: at lunch",
        "* You are marked as away.",
        "* You are back.",
    ]
    bob.on_line(b"JOIN #lobby")
    link.take()
    bob.on_line(b"QUIT :bye now")
    assert said(link) == ["* bob has quit (Quit: bye now)."]


def test_own_messages_come_back_in_the_rooms_order() -> None:
    hub = new_hub()
    zhang, link = plain_user(hub, "张三")
    _, lisi_link = plain_user(hub, "李四")
    link.take()
    zhang.on_line(b"hello everyone")
    zhang.on_line(b"/me waves")
    zhang.on_line(b"//not a command")
    expected = [
        "#lobby <张三> hello everyone",
        "#lobby * 张三 waves",
        "#lobby <张三> /not a command",
    ]
    assert said(link) == expected
    assert said(lisi_link) == expected


def test_plain_users_share_one_rendering_but_their_own_join_is_theirs() -> None:
    hub = new_hub()
    zhang, link = plain_user(hub, "张三")
    lisi, lisi_link = plain_user(hub, "李四")
    assert zhang.form == lisi.form
    zhang.on_line(b"/time off")
    assert zhang.form != lisi.form
    zhang.on_line(b"/time on")
    link.take()
    lisi.on_line(b"/join dev")
    zhang.on_line(b"/join dev")
    assert said(lisi_link) == ["#dev * 李四 joined. People: 李四", "#dev * 张三 joined."]
    assert said(link) == ["#dev * 张三 joined. People: 李四, 张三"]


def test_time_off_drops_timestamps_only_for_that_user() -> None:
    hub = new_hub()
    zhang, link = plain_user(hub, "张三")
    lisi, lisi_link = plain_user(hub, "李四")
    link.take()
    zhang.on_line(b"/time off")
    lisi.on_line(b"hi")
    assert link.take() == ["* Timestamps off.", "#lobby <李四> hi"]
    assert STAMP.match(lisi_link.take()[0])


def test_switching_and_parting_move_the_current_room() -> None:
    hub = new_hub()
    zhang, link = plain_user(hub, "张三")
    lisi, lisi_link = plain_user(hub, "李四")
    lisi.on_line(b"/join #dev")
    zhang.on_line(b"/join dev")
    link.take()
    zhang.on_line(b"/go lobby")
    zhang.on_line(b"in the lobby")
    zhang.on_line(b"/switch ops")
    zhang.on_line(b"/part #lobby")
    zhang.on_line(b"in dev")
    zhang.on_line(b"/part")
    zhang.on_line(b"anyone?")
    assert said(link) == [
        "* Now talking in #lobby.",
        "#lobby <张三> in the lobby",
        "! You are not in #ops; /join #ops first.",
        "#lobby * 张三 left.",
        "* Now talking in #dev.",
        "#dev <张三> in dev",
        "#dev * 张三 left.",
        "* You are in no room now; /join one to talk.",
        "! You are not in a room; /join ROOM first.",
    ]
    assert lisi_link.take()[-1].endswith("#dev * 张三 left.")


def test_queries_read_as_lines() -> None:
    hub = new_hub()
    bob, _ = irc_user(hub, "bob")
    bob.on_line(b"JOIN #dev")
    bob.on_line(b"TOPIC #dev :release on Friday")
    zhang, link = plain_user(hub, "张三")
    zhang.on_line(b"/who")
    zhang.on_line(b"/who dev")
    zhang.on_line(b"/who nowhere")
    zhang.on_line(b"/rooms")
    zhang.on_line(b"/topic")
    zhang.on_line(b"/mode")
    zhang.on_line(b"/mode +b")
    zhang.on_line(b"/whois bob")
    lines = said(link)
    idle = lines.pop()
    assert re.fullmatch(rf"\* bob has been idle \d+s, here since {clock(bob.user.signon)}", idle)
    assert lines == [
        "#lobby * People (1): @张三",
        "#dev * People (1): @bob",
        "! There is no room #nowhere, or you cannot see who is in it.",
        "* #dev (1 person): release on Friday",
        "* #lobby (1 person)",
        "#lobby * No topic is set.",
        "#lobby * Modes: +nt",
        "#lobby * Nobody is banned.",
        "* bob is ~bob@127.0.0.1 (bob)",
        "* bob is in @#dev",
    ]


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("/frob", "! Unknown command /frob — try /help"),
        ("/msg bob", "! Usage: /msg NICK TEXT"),
        ("/join", "! Usage: /join ROOM [KEY]"),
        ("/kick", "! Usage: /kick NICK [REASON]"),
        ("/time sometimes", "! Usage: /time [on|off]"),
        ("/msg nobody hi", "! Nobody here is called nobody."),
        ("/join #a,b", "! #a,b is not a valid room name."),
        ("/kick bob", "! Only operators of #lobby can do that."),
        ("/nick bob", "! Nickname bob is taken."),
        ("/history bob many", "! Usage: /history [NICK|ROOM] [N]"),
        ("/register hunter2", "! That password is too short: use at least 8 characters."),
        ("/login me hunter2", "! Invalid account credentials; you are not logged in."),
    ],
)
def test_mistakes_get_a_clear_error_line(typed: str, answer: str) -> None:
    hub = new_hub()
    bob, _ = irc_user(hub, "bob")
    bob.on_line(b"JOIN #lobby")
    zhang, link = plain_user(hub, "张三")
    zhang.on_line(typed.encode())
    assert link.take() == [answer]
    zhang.on_line(b"still usable")
    assert said(link) == ["#lobby <张三> still usable"]


def test_a_room_with_a_key_says_how_to_join() -> None:
    hub = new_hub()
    bob, _ = irc_user(hub, "bob")
    bob.on_line(b"JOIN #secret")
    bob.on_line(b"MODE #secret +k sesame")
    zhang, link = plain_user(hub, "张三")
    zhang.on_line(b"/join secret")
    assert link.take() == ["! #secret needs a key: /join #secret KEY"]
    zhang.on_line(b"/join secret sesame")
    assert said(link) == ["#secret * 张三 joined. People: bob, 张三"]


def test_overlong_lines_are_refused_and_not_sent() -> None:
    hub = new_hub()
    zhang, link = plain_user(hub, "张三")
    _, lisi_link = plain_user(hub, "李四")
    link.take()
    zhang.on_line(b"x" * 4097)
    zhang.on_overlong()
    assert link.take() == ["! Line too long (max 4096 bytes); not sent."] * 2
    zhang.on_line(b"x" * 4096)
    assert lisi_link.take()  # a line at the limit is said, in as many pieces as it needs


def test_help_lists_every_command_of_the_table_that_dispatches() -> None:
    hub = new_hub()
    zhang, link = plain_user(hub, "张三")
    zhang.on_line(b"/help")
    shown = link.take()
    assert shown[0] == "Commands (/help COMMAND shows one):"
    listed = {line.split()[0] for line in shown[1:-1]}
    assert listed == {f"/{name}" for name in {c.name for c in PLAIN_COMMANDS.values()}}
    assert len(shown) == len(HELP_ORDER) + 2
    for name, cmd in PLAIN_COMMANDS.items():
        zhang.on_line(f"/help {name}".encode())
        (line,) = link.take()
        assert line == f"{cmd.listed} — {cmd.help}"
        if cmd.hub_command:
            assert cmd.hub_command in COMMANDS
    # Every command the spec lists is there.
    spec = ("help nick join part switch go rooms who msg me topic away history register "
            "login kick mode time quit")
    assert set(spec.split()) <= set(PLAIN_COMMANDS)


def test_help_and_quit_work_at_the_prompt() -> None:
    hub = new_hub()
    link = FakeLink()
    zhang = PlainSession(hub, link, "#lobby")
    link.take()
    zhang.on_line(b"/help quit")
    assert link.take() == ["/quit [MESSAGE] — Leave the server.", "Pick a nickname:"]
    zhang.on_line(b"/quit")
    assert said(link) == ["* Goodbye."]
    assert link.closed is not None
    zhang.on_line(b"after the end")
    assert link.take() == []


def test_goodbyes_say_why() -> None:
    hub = new_hub()
    zhang, link = plain_user(hub, "张三")
    zhang.on_idle()
    zhang.terminate("Ping timeout: 150 seconds")
    assert said(link) == [
        "* Still there? Press Enter to stay connected.",
        "* Ping timeout: 150 seconds. Goodbye.",
    ]
    lisi, lisi_link = plain_user(hub, "李四")
    hub.send(lisi.user, ServerMessage(Message("NOTICE", ("李四", "maintenance at noon"))))
    hub.send(lisi.user, ServerMessage(Message("PING", ("example.org",))))
    hub.shutdown("Server shutting down")
    assert said(lisi_link) == ["* maintenance at noon", "* Server shutting down. Goodbye."]
    assert lisi_link.closed == "Server shutting down"


def test_a_server_password_is_explained_since_plain_mode_cannot_send_one() -> None:
    hub = Hub(HubSettings(name="example.org", password="sesame"))
    link = FakeLink()
    zhang = PlainSession(hub, link, "#lobby")
    link.take()
    zhang.on_line("张三".encode())
    assert said(link) == [
        "! This server needs a password, which plain mode cannot give; use an IRC client.",
        "* Bad password. Goodbye.",
    ]
    assert link.closed == "Bad password"
    assert not hub.connections
