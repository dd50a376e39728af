"""Tab completion: recent speakers first, `nick: ` at the start, commands and rooms."""

from __future__ import annotations

from datetime import UTC, datetime

from chat_client import events as ev
from chat_client.commands import REGISTRY
from chat_client.completion import TabCompleter
from chat_client.state import ClientState

T = datetime(2024, 1, 1, tzinfo=UTC)


def room_state() -> ClientState:
    state = ClientState("me")
    state.apply(ev.Joined("#dev", "me", True, T))
    state.apply(ev.Joined("#design", "me", True, T))
    state.apply(ev.Names("#design", ("me", "Alice", "albert", "amy", "bob")))
    for nick in ("amy", "albert"):
        state.apply(ev.ChatMessage("#design", nick, "hi", ev.MessageKind.PRIVMSG, T,
                                   own=False))
    return state


def test_recent_speakers_first_then_members_with_colon_at_line_start() -> None:
    completer = TabCompleter(room_state(), REGISTRY.names())
    assert completer.complete("a", 1) == ("albert: ", 8)
    assert completer.complete("albert: ", 8) == ("amy: ", 5)
    assert completer.complete("amy: ", 5) == ("Alice: ", 7)
    assert completer.complete("Alice: ", 7) == ("albert: ", 8)


def test_mid_line_completion_keeps_the_rest() -> None:
    completer = TabCompleter(room_state(), REGISTRY.names())
    text = "ask BO about it"
    assert completer.complete(text, 6) == ("ask bob  about it", 8)


def test_own_nick_is_never_offered() -> None:
    completer = TabCompleter(room_state(), REGISTRY.names())
    assert completer.complete("m", 1) is None


def test_commands_and_rooms() -> None:
    completer = TabCompleter(room_state(), REGISTRY.names())
    assert completer.complete("/jo", 3) == ("/join ", 6)
    assert completer.complete("/join ", 6) == ("/joins ", 7)
    assert completer.complete("/join #de", 9) == ("/join #dev ", 11)
    assert completer.complete("/join #dev ", 11) == ("/join #design ", 14)
    assert completer.complete("/nosuch", 7) is None


def test_a_new_word_starts_a_new_cycle() -> None:
    completer = TabCompleter(room_state(), REGISTRY.names())
    assert completer.complete("a", 1) == ("albert: ", 8)
    assert completer.complete("albert: b", 9) == ("albert: bob ", 12)
