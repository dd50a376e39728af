"""The client core's part in history: private conversations, and when not to ask."""

from __future__ import annotations

from client.clienthelpers import Wire, feed, make_client

from chat_client.state import ConnState

CAPS = "server-time echo-message message-tags batch draft/chathistory"


def history_requests(wire: Wire) -> list[str]:
    return [m.to_line() for m in wire.take() if m.command == "CHATHISTORY"]


def test_a_new_private_conversation_shows_what_came_before_its_first_line() -> None:
    client, wire = make_client(caps=CAPS, rooms=())
    feed(client, "@msgid=p9;time=2024-05-01T10:09:00.000Z :bob!b@h PRIVMSG me :still there?")
    assert history_requests(wire) == ["CHATHISTORY LATEST bob * 50"]
    feed(client, ":srv BATCH +q chathistory bob",
         "@batch=q;msgid=p1;time=2024-05-01T10:01:00.000Z :me!m@h PRIVMSG bob :lunch?",
         "@batch=q;msgid=p2;time=2024-05-01T10:02:00.000Z :bob!b@h PRIVMSG me :sure",
         "@batch=q;msgid=p9;time=2024-05-01T10:09:00.000Z :bob!b@h PRIVMSG me :still there?",
         ":srv BATCH -q")
    query = client.state.find("bob")
    assert query is not None
    assert [(line.nick, line.text) for line in query.lines] == [
        ("me", "lunch?"), ("bob", "sure"), ("bob", "still there?")]
    assert query.unread == 1  # the live line, not the context fetched for it
    # /query of someone new asks too; one already open does not ask again.
    client.execute("/query carol")
    client.execute("/query bob")
    assert history_requests(wire) == ["CHATHISTORY LATEST carol * 50"]


def test_after_a_reconnect_private_conversations_are_caught_up() -> None:
    client, wire = make_client(caps=CAPS, rooms=())
    feed(client, "@msgid=p1;time=2024-05-01T10:01:00.000Z :bob!b@h PRIVMSG me :hi",
         ":srv BATCH +q chathistory bob", ":srv BATCH -q")
    wire.take()
    client.detach()
    client.state.set_connection(ConnState.RECONNECTING, "connection reset")
    client.attach(wire.write)
    feed(client, f":srv CAP * LS :{CAPS}", f":srv CAP me ACK :{CAPS}", ":srv 001 me :back")
    assert history_requests(wire) == ["CHATHISTORY AFTER bob msgid=p1 50"]


def test_no_paging_back_in_the_server_buffer_or_a_room_we_are_not_in() -> None:
    client, wire = make_client(caps=CAPS, rooms=("#a",))
    feed(client, ":srv BATCH +j chathistory #a",
         "@batch=j;msgid=a1;time=2024-05-01T10:01:00.000Z :bob!b@h PRIVMSG #a :hi",
         ":srv BATCH -j")
    room = client.state.active
    client.state.switch_to(0)
    client.scroll_back(10)
    assert history_requests(wire) == []
    client.state.switch_to_buffer(room)
    room.joined = False  # kicked, say
    client.scroll_back(10)
    assert history_requests(wire) == []
    room.joined = True
    client.scroll_back(10)
    assert history_requests(wire) == ["CHATHISTORY BEFORE #a msgid=a1 50"]
