"""LUSERS' counts are kept as counters, not recounted: they must follow every way in
and out (registration, QUIT, a dropped connection, KILL) exactly as a recount would."""

from __future__ import annotations

from chat_server.hub.events import Reply
from chat_server.hub.hub import Hub
from chat_server.hub.model import User
from chat_server.protocol import numerics as N
from tests.hub.test_hub import FakePeer, command, make_hub, register


def lusers(hub: Hub, user: User, peer: FakePeer) -> dict[str, tuple[str, ...]]:
    """What `user` is told by LUSERS, by numeric (the nick left out)."""
    peer.events.clear()
    command(hub, user, "LUSERS")
    return {e.numeric: e.params for e in peer.events if isinstance(e, Reply)}


def test_local_and_unknown_counts_follow_arrivals_quits_drops_and_kills() -> None:
    hub = make_hub(flood_rate=0)
    people = [register(hub, f"p{i}") for i in range(5)]
    asker, asker_peer = people[0]
    lurker = hub.connect(FakePeer(), "10.0.0.2")  # connected, never registers
    hub.connect(FakePeer(), "10.0.0.3")
    counts = lusers(hub, asker, asker_peer)
    assert counts[N.RPL_LUSERUNKNOWN][0] == "2"
    assert counts[N.RPL_LUSERME][0] == "I have 5 clients and 0 servers"
    assert counts[N.RPL_LOCALUSERS][:2] == ("5", "5")

    command(hub, people[1][0], "QUIT :bye")
    hub.disconnect(people[2][0], "Connection closed")  # dropped, no QUIT
    hub.disconnect(lurker, "Registration timed out")
    oper = people[3][0]
    oper.modes = frozenset({"o"})
    hub.operators += 1
    command(hub, oper, "KILL p4 :enough")
    counts = lusers(hub, asker, asker_peer)
    assert counts[N.RPL_LUSERUNKNOWN][0] == "1"
    assert counts[N.RPL_LUSERME][0] == "I have 2 clients and 0 servers"
    assert counts[N.RPL_LOCALUSERS][:2] == ("2", "5")
    assert counts[N.RPL_GLOBALUSERS][:2] == ("2", "5")

    newcomer, newcomer_peer = register(hub, "p5")
    counts = lusers(hub, newcomer, newcomer_peer)
    assert counts[N.RPL_LOCALUSERS][:2] == ("3", "5")
    assert N.RPL_LUSERUNKNOWN in counts
