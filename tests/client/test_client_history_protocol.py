"""The client protocol's side of draft/chathistory: requests, batches, catching up."""

from __future__ import annotations

from datetime import UTC, datetime

from chat_client import events as ev
from chat_client.protocol import ClientProtocol
from chat_server.protocol.message import parse_line

CAPS = "batch server-time message-tags echo-message draft/chathistory"


def sent(proto: ClientProtocol) -> list[str]:
    return [parse_line(raw).to_line() for raw in proto.data_to_send().split(b"\r\n") if raw]


def feed(proto: ClientProtocol, *lines: str) -> list[ev.Event]:
    return proto.receive_data("".join(f"{line}\r\n" for line in lines).encode())


def connect(proto: ClientProtocol, caps: str = CAPS, isupport: str = "") -> None:
    """Register on a (new) connection, dropping what was sent."""
    proto.connection_made()
    feed(proto, f":srv CAP * LS :{caps}", f":srv CAP me ACK :{caps}", ":srv 001 me :hi")
    if isupport:
        feed(proto, f":srv 005 me {isupport} :are supported")
    proto.data_to_send()


def registered(caps: str = CAPS, isupport: str = "", *, history_page: int = 50,
               catch_up_max: int = 2000) -> ClientProtocol:
    proto = ClientProtocol("me", now=lambda: datetime(2024, 1, 1, tzinfo=UTC),
                           history_page=history_page, catch_up_max=catch_up_max)
    connect(proto, caps, isupport)
    return proto


def stamp(n: int) -> str:
    return f"2024-05-01T10:{n // 60:02d}:{n % 60:02d}.000Z"


def history_line(batch: str, n: int, target: str = "#a", nick: str = "bob") -> str:
    return f"@batch={batch};msgid=m{n};time={stamp(n)} :{nick}!b@h PRIVMSG {target} :line {n}"


def batch(ref: str, target: str, numbers: range) -> list[str]:
    return [f":srv BATCH +{ref} chathistory {target}",
            *(history_line(ref, n, target) for n in numbers),
            f":srv BATCH -{ref}"]


def history_events(events: list[ev.Event]) -> list[ev.HistoryBatch]:
    return [e for e in events if isinstance(e, ev.HistoryBatch)]


def test_joining_asks_for_the_latest_page_within_the_server_maximum() -> None:
    proto = registered()
    feed(proto, ":me!m@h JOIN #a")
    assert sent(proto) == ["CHATHISTORY LATEST #a * 50"]
    small = registered(isupport="CHATHISTORY=20")
    feed(small, ":me!m@h JOIN #a")
    assert sent(small) == ["CHATHISTORY LATEST #a * 20"]
    unlimited = registered(isupport="CHATHISTORY=0", history_page=75)
    feed(unlimited, ":me!m@h JOIN #a")
    assert sent(unlimited) == ["CHATHISTORY LATEST #a * 75"]


def test_no_history_requests_without_the_capability() -> None:
    proto = registered("batch server-time message-tags")
    feed(proto, ":me!m@h JOIN #a")
    assert sent(proto) == []
    assert not proto.fetch_older("#a", "m1", datetime(2024, 1, 1, tzinfo=UTC))
    assert sent(proto) == []


def test_a_batch_becomes_one_event_with_its_messages_oldest_first() -> None:
    proto = registered()
    feed(proto, ":me!m@h JOIN #a")
    sent(proto)
    events = feed(proto, *batch("x", "#a", range(1, 4))[:-1])
    assert events == []  # nothing is shown until the batch is complete
    events = feed(proto, ":srv BATCH -x",
                  "@msgid=live1;time=2024-05-01T11:00:00.000Z :carol!c@h PRIVMSG #a :now")
    (page, live) = events
    assert isinstance(page, ev.HistoryBatch) and isinstance(live, ev.ChatMessage)
    assert (page.target, page.purpose) == ("#a", ev.HistoryPurpose.LATEST)
    assert [(m.text, m.msgid, m.history) for m in page.messages] == [
        ("line 1", "m1", True), ("line 2", "m2", True), ("line 3", "m3", True)]
    assert page.messages[0].time == datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC)
    assert (live.text, live.history, live.msgid) == ("now", False, "live1")


def test_an_action_in_history_is_an_action_and_a_replayed_join_does_nothing() -> None:
    proto = registered()
    feed(proto, ":me!m@h JOIN #a")
    sent(proto)
    (page,) = feed(proto, ":srv BATCH +x chathistory #a",
                   "@batch=x;msgid=j;time=2024-05-01T10:00:00.000Z :me!m@h JOIN #a",
                   "@batch=x;msgid=a;time=2024-05-01T10:00:01.000Z "
                   ":bob!b@h PRIVMSG #a :\x01ACTION waves\x01",
                   ":srv BATCH -x")
    assert isinstance(page, ev.HistoryBatch)
    assert [(m.kind, m.text) for m in page.messages] == [(ev.MessageKind.ACTION, "waves")]
    assert sent(proto) == []  # the replayed JOIN asked for no history


def test_only_one_request_per_target_in_flight() -> None:
    proto = registered()
    feed(proto, ":me!m@h JOIN #a", ":me!m@h JOIN #b")
    assert sent(proto) == ["CHATHISTORY LATEST #a * 50", "CHATHISTORY LATEST #b * 50"]
    when = datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert proto.history_pending("#A")
    assert not proto.fetch_older("#a", "m1", when)
    assert sent(proto) == []
    feed(proto, *batch("x", "#a", range(1, 3)))
    assert proto.fetch_older("#a", "m1", when)
    assert not proto.fetch_older("#a", "m1", when)
    assert sent(proto) == ["CHATHISTORY BEFORE #a msgid=m1 50"]
    (page,) = history_events(feed(proto, ":srv BATCH +y chathistory #a", ":srv BATCH -y"))
    assert (page.purpose, page.messages) == (ev.HistoryPurpose.OLDER, ())
    # Without a msgid the time of the top line is the reference.
    assert proto.fetch_older("#a", None, when)
    assert sent(proto) == ["CHATHISTORY BEFORE #a timestamp=2024-05-01T10:00:00.000Z 50"]


def test_after_a_reconnect_what_was_missed_is_fetched_page_by_page() -> None:
    proto = registered(isupport="CHATHISTORY=3")
    feed(proto, ":me!m@h JOIN #a")
    feed(proto, *batch("x", "#a", range(1, 3)))
    feed(proto, "@msgid=m5;time=2024-05-01T10:00:05.000Z :bob!b@h PRIVMSG #a :live")
    connect(proto, isupport="CHATHISTORY=3")
    feed(proto, "@time=2024-05-01T11:00:00.000Z :me!m@h JOIN #a")
    assert sent(proto) == ["CHATHISTORY AFTER #a msgid=m5 3"]
    # A full page: there may be more, so the next page follows on its own.
    (page,) = history_events(feed(proto, *batch("y", "#a", range(6, 9))))
    assert page.purpose is ev.HistoryPurpose.MISSED
    assert [m.text for m in page.messages] == ["line 6", "line 7", "line 8"]
    assert sent(proto) == ["CHATHISTORY AFTER #a msgid=m8 3"]
    (page,) = history_events(feed(proto, *batch("z", "#a", range(9, 10))))
    assert page.purpose is ev.HistoryPurpose.MISSED
    assert sent(proto) == []  # a short page: caught up
    # The next reconnect starts after the newest line caught up.
    connect(proto)
    feed(proto, ":me!m@h JOIN #a")
    assert sent(proto) == ["CHATHISTORY AFTER #a msgid=m9 50"]


def test_catching_up_stops_at_the_limit() -> None:
    proto = registered(isupport="CHATHISTORY=2", catch_up_max=4)
    feed(proto, ":me!m@h JOIN #a", *batch("x", "#a", range(1, 2)))
    connect(proto, isupport="CHATHISTORY=2")
    feed(proto, ":me!m@h JOIN #a")
    assert sent(proto) == ["CHATHISTORY AFTER #a msgid=m1 2"]
    feed(proto, *batch("y", "#a", range(2, 4)))
    assert sent(proto) == ["CHATHISTORY AFTER #a msgid=m3 2"]
    feed(proto, *batch("z", "#a", range(4, 6)))
    assert sent(proto) == []


def test_a_quiet_room_is_caught_up_from_the_join_and_a_part_forgets_it() -> None:
    proto = registered()
    feed(proto, "@time=2024-05-01T09:00:00.000Z :me!m@h JOIN #a",
         ":srv BATCH +x chathistory #a", ":srv BATCH -x")
    connect(proto)
    feed(proto, ":me!m@h JOIN #a")
    assert sent(proto) == ["CHATHISTORY AFTER #a timestamp=2024-05-01T09:00:00.000Z 50"]
    feed(proto, ":srv BATCH +y chathistory #a", ":srv BATCH -y", ":me!m@h PART #a")
    feed(proto, ":me!m@h JOIN #a")
    assert sent(proto) == ["CHATHISTORY LATEST #a * 50"]


def test_a_rejected_msgid_is_retried_as_a_timestamp_and_other_failures_reported() -> None:
    proto = registered()
    feed(proto, ":me!m@h JOIN #a", *batch("x", "#a", range(1, 3)))
    connect(proto)
    feed(proto, ":me!m@h JOIN #a")
    assert sent(proto) == ["CHATHISTORY AFTER #a msgid=m2 50"]
    assert feed(proto, ":srv FAIL CHATHISTORY INVALID_MSGREFTYPE AFTER #a :Unknown msgid") == []
    assert sent(proto) == [f"CHATHISTORY AFTER #a timestamp={stamp(2)} 50"]
    feed(proto, ":srv BATCH +y chathistory #a", ":srv BATCH -y")
    assert proto.fetch_older("#a", "m1", datetime(2024, 5, 1, tzinfo=UTC))
    sent(proto)
    (failed,) = feed(proto, ":srv FAIL CHATHISTORY MESSAGE_ERROR BEFORE #a :No history here")
    assert failed == ev.HistoryBatch("#a", ev.HistoryPurpose.OLDER, (), error="No history here")
    assert not proto.history_pending("#a")
    (other,) = feed(proto, ":srv FAIL REGISTER TEMPORARILY_UNAVAILABLE :Try later")
    assert other == ev.ServerText("REGISTER: Try later", error=True)


def test_a_server_that_prefers_timestamps_gets_timestamps() -> None:
    proto = registered(isupport="MSGREFTYPES=timestamp")
    feed(proto, ":me!m@h JOIN #a", *batch("x", "#a", range(1, 3)))
    sent(proto)
    assert proto.fetch_older("#a", "m1", datetime(2024, 5, 1, 10, 0, 1, 500000, tzinfo=UTC))
    assert sent(proto) == ["CHATHISTORY BEFORE #a timestamp=2024-05-01T10:00:01.500Z 50"]


def test_private_conversations_are_caught_up_by_nick() -> None:
    proto = registered()
    feed(proto, "@msgid=p1;time=2024-05-01T10:00:00.000Z :bob!b@h PRIVMSG me :psst",
         "@msgid=p2;time=2024-05-01T10:00:01.000Z :me!m@h PRIVMSG bob :yes?")
    connect(proto)
    assert proto.fetch_missed("Bob")
    assert sent(proto) == ["CHATHISTORY AFTER Bob msgid=p2 50"]
    (page,) = feed(proto, ":srv BATCH +q chathistory bob",
                   "@batch=q;msgid=p3;time=2024-05-01T10:05:00.000Z :bob!b@h PRIVMSG me :there?",
                   "@batch=q;msgid=p4;time=2024-05-01T10:06:00.000Z :me!m@h PRIVMSG bob :here",
                   ":srv BATCH -q")
    assert isinstance(page, ev.HistoryBatch) and page.purpose is ev.HistoryPurpose.MISSED
    assert [(m.buffer, m.own, m.private) for m in page.messages] == [
        ("bob", False, True), ("bob", True, True)]
    assert not proto.fetch_missed("carol")  # never talked: nothing to catch up from
