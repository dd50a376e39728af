"""Commands typed into the client core: what they send and what they change."""

from __future__ import annotations

from client.clienthelpers import feed, make_client

from chat_client.commands import REGISTRY
from chat_client.state import BufferKind, ConnState


def test_text_goes_to_the_active_room_and_is_echoed_by_the_server() -> None:
    client, wire = make_client()
    client.execute("hello there")
    assert wire.commands() == ["PRIVMSG #lobby :hello there"]
    feed(client, ":me!u@h PRIVMSG #lobby :hello there")
    assert client.state.active.lines[-1].text == "hello there"
    assert client.state.active.lines[-1].own


def test_local_echo_without_echo_message() -> None:
    client, wire = make_client(caps="")
    client.execute("hi")
    assert wire.commands() == ["PRIVMSG #lobby hi"]
    assert client.state.active.lines[-1].text == "hi"


def test_double_slash_sends_a_literal_slash() -> None:
    client, wire = make_client()
    client.execute("//etc/hosts is a file")
    assert wire.commands() == ["PRIVMSG #lobby :/etc/hosts is a file"]


def test_join_switches_and_part_closes_on_the_server_reply() -> None:
    client, wire = make_client()
    client.execute("/join dev")
    assert wire.commands() == ["JOIN #dev"]
    assert client.state.active.name == "#dev"
    feed(client, ":me!u@h JOIN #dev")
    assert client.state.active.joined
    client.execute("/part bye now")
    assert wire.commands() == ["PART #dev :bye now"]
    feed(client, ":me!u@h PART #dev :bye now")
    assert client.state.find("#dev") is None


def test_query_msg_me_close() -> None:
    client, wire = make_client()
    client.execute("/query bob hi bob")
    assert client.state.active.kind is BufferKind.QUERY
    assert wire.commands() == ["PRIVMSG bob :hi bob"]
    client.execute("/me waves")
    assert wire.commands() == ["PRIVMSG bob :\x01ACTION waves\x01"]
    client.execute("/msg carol psst")
    assert wire.commands() == ["PRIVMSG carol psst"]
    assert client.state.active.name == "bob"
    client.execute("/close")
    assert client.state.find("bob") is None


def test_nick_topic_names_away_list() -> None:
    client, wire = make_client()
    client.execute("/nick me2")
    client.execute("/topic new topic")
    client.execute("/names")
    client.execute("/away lunch")
    client.execute("/away")
    client.execute("/list")
    assert wire.commands() == [
        "NICK me2", "TOPIC #lobby :new topic", "NAMES #lobby", "AWAY lunch", "AWAY", "LIST"]
    assert client.state.active.kind is BufferKind.SERVER


def test_names_reply_is_shown_when_asked_for() -> None:
    client, _ = make_client()
    client.execute("/names")
    feed(client, ":srv 353 me = #lobby :me bob", ":srv 366 me #lobby :End")
    assert client.state.active.lines[-1].text == "Members (2): bob, me"


def test_ignore_hides_a_nick_and_toggles_back() -> None:
    client, _ = make_client()
    client.execute("/ignore BOB")
    feed(client, ":bob!b@h PRIVMSG #lobby :spam")
    assert all(line.text != "spam" for line in client.state.active.lines)
    client.execute("/ignore bob")
    feed(client, ":bob!b@h PRIVMSG #lobby :fine")
    assert client.state.active.lines[-1].text == "fine"


def test_clear_and_joins_toggle() -> None:
    client, _ = make_client()
    client.execute("/joins")
    assert client.state.active.hide_joins
    client.execute("/clear")
    assert not client.state.active.lines


def test_help_comes_from_the_registry_that_dispatches() -> None:
    client, _ = make_client()
    client.execute("/help")
    shown = [line.text for line in client.state.active.lines]
    for name in REGISTRY.names():
        command = REGISTRY.get(name)
        assert command is not None
        assert any(text.startswith(command.usage) and command.help in text for text in shown)
    client.execute("/help join")
    assert client.state.active.lines[-1].text.strip() == REGISTRY.get("join").help  # type: ignore[union-attr]


def test_unknown_command_and_missing_arguments_say_so() -> None:
    client, wire = make_client()
    client.execute("/frobnicate")
    assert "Unknown command /frobnicate" in client.state.active.lines[-1].text
    client.execute("/msg bob")
    assert client.state.active.lines[-1].text == "Usage: /msg NICK|ROOM TEXT"
    assert wire.commands() == []


def test_offline_commands_wait_or_refuse() -> None:
    client, wire = make_client()
    client.detach()
    client.execute("hello")
    client.execute("/away x")
    client.execute("/join #later")
    assert client.state.active.name == "#later"
    assert wire.commands() == []
    assert "#later" in client.state.rooms()


def test_quit_sends_quit_and_notifies_the_front_end() -> None:
    client, wire = make_client()
    stopped: list[bool] = []
    client.on_quit.append(lambda: stopped.append(True))
    client.execute("/quit see you")
    assert wire.commands() == ["QUIT :see you"]
    assert stopped == [True]
    assert client.state.conn is ConnState.DISCONNECTED


def test_rooms_are_rejoined_after_registration() -> None:
    client, wire = make_client(rooms=("#a", "#b"))
    client.execute("/join #c")
    wire.take()
    client.attach(wire.write)
    feed(client, ":srv CAP * LS :", ":srv 001 me :Welcome back")
    joins = [line for line in wire.commands() if line.startswith("JOIN")]
    assert joins == ["JOIN #a", "JOIN #b", "JOIN #c"]
