"""The sans-I/O client protocol: registration, capabilities, messages, batches, lag."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from chat_client import events as ev
from chat_client.protocol import ClientProtocol
from chat_server.protocol.message import parse_line


def sent(proto: ClientProtocol) -> list[str]:
    return [parse_line(raw).to_line() for raw in proto.data_to_send().split(b"\r\n") if raw]


def feed(proto: ClientProtocol, *lines: str) -> list[ev.Event]:
    return proto.receive_data("".join(f"{line}\r\n" for line in lines).encode())


def test_registration_asks_only_for_offered_caps_then_ends() -> None:
    proto = ClientProtocol("me")
    assert sent(proto) == ["CAP LS 302"]
    feed(proto, ":srv CAP * LS * :server-time multi-prefix",
         ":srv CAP * LS :echo-message sasl=PLAIN unknown-cap")
    assert sent(proto) == [
        "NICK me",
        "USER roomchat 0 * :roomchat client",
        "CAP REQ :echo-message multi-prefix server-time",
    ]
    events = feed(proto, ":srv CAP me ACK :echo-message multi-prefix server-time")
    assert sent(proto) == ["CAP END"]
    assert events == [ev.CapsEnabled(frozenset({"echo-message", "multi-prefix", "server-time"}))]
    events = feed(proto, ":srv 001 me :Welcome to the net")
    assert events[0] == ev.Registered("me", "srv")
    assert proto.registered


def test_sasl_plain_over_tls_when_asked_for_and_offered() -> None:
    proto = ClientProtocol("me", password="pw", sasl=True)
    proto.connection_made(secure=True)
    proto.data_to_send()
    feed(proto, ":srv CAP * LS :sasl=PLAIN,EXTERNAL server-time")
    assert "PASS pw" not in sent(proto)
    feed(proto, ":srv CAP me ACK :sasl server-time")
    assert sent(proto) == ["AUTHENTICATE PLAIN"]
    feed(proto, "AUTHENTICATE +")
    (line,) = sent(proto)
    assert base64.b64decode(line.split()[1]) == b"\0me\0pw"
    feed(proto, ":srv 903 me :SASL authentication successful")
    assert sent(proto) == ["CAP END"]


def test_password_without_sasl_is_sent_as_pass_before_nick() -> None:
    proto = ClientProtocol("me", password="pw")
    proto.data_to_send()
    feed(proto, ":srv CAP * LS :server-time")
    assert sent(proto)[:2] == ["PASS pw", "NICK me"]


def test_server_without_cap_still_registers() -> None:
    proto = ClientProtocol("me")
    proto.data_to_send()
    feed(proto, ":srv 421 * CAP :Unknown command")
    assert sent(proto) == ["NICK me", "USER roomchat 0 * :roomchat client"]


def test_nick_in_use_during_registration_tries_another() -> None:
    proto = ClientProtocol("me")
    proto.data_to_send()
    feed(proto, ":srv CAP * LS :")
    sent(proto)
    feed(proto, ":srv 433 * me :Nickname is already in use")
    assert sent(proto) == ["NICK me_"]
    events = feed(proto, ":srv 001 me_ :Welcome")
    assert events[0] == ev.Registered("me_", "srv")


def registered(caps: str = "") -> ClientProtocol:
    proto = ClientProtocol("me", now=lambda: datetime(2024, 1, 1, tzinfo=UTC))
    feed(proto, f":srv CAP * LS :{caps}")
    if caps:
        feed(proto, f":srv CAP me ACK :{caps}")
    feed(proto, ":srv 001 me :hi")
    proto.data_to_send()
    return proto


def test_ping_is_answered() -> None:
    proto = registered()
    feed(proto, "PING :abc")
    assert sent(proto) == ["PONG abc"]


def test_lag_is_measured_from_our_ping() -> None:
    clock = [100.0]
    proto = ClientProtocol("me", clock=lambda: clock[0])
    proto.ping()
    (line,) = sent(proto)[1:]
    token = line.split()[1]
    assert proto.seconds_since_ping() == 0.0
    clock[0] = 100.25
    assert feed(proto, f":srv PONG srv :{token}") == [ev.LagMeasured(0.25)]
    assert proto.seconds_since_ping() is None


def test_room_message_with_server_time() -> None:
    proto = registered("server-time")
    (msg,) = feed(proto, "@time=2024-05-01T10:00:00.000Z :bob!b@h PRIVMSG #Lobby :hi there")
    assert msg == ev.ChatMessage(
        buffer="#Lobby", sender="bob", text="hi there", kind=ev.MessageKind.PRIVMSG,
        time=datetime(2024, 5, 1, 10, 0, tzinfo=UTC), own=False,
    )


def test_private_message_goes_to_the_other_party() -> None:
    proto = registered("echo-message")
    (incoming,) = feed(proto, ":bob!b@h PRIVMSG me :psst")
    (echo,) = feed(proto, ":me!m@h PRIVMSG bob :yes?")
    assert (incoming.buffer, incoming.private, incoming.own) == ("bob", True, False)  # type: ignore[union-attr]
    assert (echo.buffer, echo.private, echo.own) == ("bob", True, True)  # type: ignore[union-attr]


def test_action_and_other_ctcp() -> None:
    proto = registered()
    (action,) = feed(proto, ":bob!b@h PRIVMSG #a :\x01ACTION waves\x01")
    assert isinstance(action, ev.ChatMessage)
    assert (action.kind, action.text) == (ev.MessageKind.ACTION, "waves")
    assert feed(proto, ":bob!b@h PRIVMSG me :\x01VERSION\x01") == []


def test_local_echo_only_without_echo_message() -> None:
    plain = registered()
    (echo,) = plain.privmsg("#a", "hello")
    assert isinstance(echo, ev.ChatMessage) and echo.own and echo.text == "hello"
    assert sent(plain) == ["PRIVMSG #a hello"]
    echoing = registered("echo-message")
    assert echoing.privmsg("#a", "hello") == []


def test_long_and_multi_line_text_is_split_within_the_limit() -> None:
    proto = registered("echo-message")
    proto.privmsg("#a", "第" * 400 + "\nsecond line")
    lines = proto.data_to_send().split(b"\r\n")[:-1]
    assert len(lines) == 4
    assert all(len(line) + 2 + 64 + len(b":me!roomchat@ ") <= 512 for line in lines)
    assert "".join(parse_line(x).params[1] for x in lines[:-1]) == "第" * 400
    assert parse_line(lines[-1]).params[1] == "second line"


def test_names_are_collected_until_the_end_and_prefixes_stripped() -> None:
    proto = registered()
    feed(proto, ":srv 005 me PREFIX=(qov)~@+ :are supported")
    assert feed(proto, ":srv 353 me = #a :~me @bob") == []
    assert feed(proto, ":srv 353 me = #a :+carol dave", ":srv 366 me #a :End") == [
        ev.Names("#a", ("me", "bob", "carol", "dave"))]


def test_membership_events() -> None:
    proto = registered()
    t = datetime(2024, 1, 1, tzinfo=UTC)
    assert feed(proto, ":bob!b@h JOIN #a") == [ev.Joined("#a", "bob", False, t)]
    assert feed(proto, ":bob!b@h PART #a :bye") == [ev.Parted("#a", "bob", "bye", False, t)]
    assert feed(proto, ":op!o@h KICK #a me :out") == [ev.Kicked("#a", "me", "op", "out", True, t)]
    assert feed(proto, ":bob!b@h QUIT :gone") == [ev.Quit("bob", "gone", t)]
    assert feed(proto, ":me!m@h NICK :me2") == [ev.NickChanged("me", "me2", True, t)]
    assert proto.nick == "me2"
    assert feed(proto, ":bob!b@h TOPIC #a :new topic") == [
        ev.TopicChanged("#a", "new topic", "bob", t)]
    assert feed(proto, ":bob!b@h AWAY :lunch") == [ev.AwayChanged("bob", "lunch", False)]
    assert feed(proto, ":bob!b@h AWAY") == [ev.AwayChanged("bob", None, False)]


def test_error_numerics_become_error_text() -> None:
    proto = registered()
    (err,) = feed(proto, ":srv 401 me bob :No such nick/channel")
    assert err == ev.ServerText("bob: No such nick/channel", error=True, buffer=None)
    (err,) = feed(proto, ":srv 482 me #a :You're not channel operator")
    assert err == ev.ServerText("#a: You're not channel operator", error=True, buffer="#a")


def test_bytes_split_across_reads_and_garbage_are_handled() -> None:
    proto = registered()
    assert proto.receive_data(b":bob!b@h PRIVMSG #a :hel") == []
    (msg,) = proto.receive_data(b"lo\r\n\r\n:srv\r\n")
    assert isinstance(msg, ev.ChatMessage) and msg.text == "hello"
    assert proto.receive_data(b"x" * 20000) == []
    assert proto.receive_data(b"\r\nPING :a\r\n") == []
    assert sent(proto) == ["PONG a"]
