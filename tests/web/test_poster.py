"""The posting bots in the hub, without sockets: who they are, what they may do."""

from __future__ import annotations

from support.plain import irc_user, new_hub

from chat_server.config import LimitsSection
from chat_server.session.poster import Posters
from chat_server.tokens import Token

TOKEN = Token("0123456789abcdef", "deploybot", frozenset({"#ops"}))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bot_stays_and_still_hears_its_refusals_after_a_busy_room() -> None:
    hub = new_hub()
    ops, link = irc_user(hub, "ops")
    ops.on_line(b"JOIN #ops")
    clock = Clock()
    posters = Posters(hub, LimitsSection(flood_burst=5, flood_rate=1.0), clock)
    assert posters.post(TOKEN, "#ops", ["first"]).status == 201
    # The room is busy long after: far more lines than the bot's link keeps.
    for n in range(200):
        ops.on_line(f"PRIVMSG #ops :chatter {n}".encode())
    clock.now += 60
    ops.on_line(b"MODE #ops +m")
    outcome = posters.post(TOKEN, "#ops", ["second"])
    assert (outcome.status, outcome.error) == (403, "Cannot send to channel")
    said = [line for line in link.take() if "deploybot" in line and "PRIVMSG" in line]
    assert said == [":deploybot!~deploybot@web-api PRIVMSG #ops first"]


def test_kicked_bot_joins_again_and_a_taken_nick_is_409() -> None:
    hub = new_hub()
    ops, link = irc_user(hub, "ops")
    ops.on_line(b"JOIN #ops")
    posters = Posters(hub, LimitsSection(), Clock())
    assert posters.post(TOKEN, "#ops", ["one"]).status == 201
    ops.on_line(b"KICK #ops deploybot :out")
    assert posters.post(TOKEN, "#ops", ["two"]).status == 201
    assert [line for line in link.take() if line.startswith(":deploybot!") and " JOIN " in line]
    squatter, _ = irc_user(hub, "squatbot")
    squatter.on_line(b"JOIN #ops")
    taken = Posters(hub, LimitsSection(), Clock()).post(
        Token("abcdef0123456789", "squatbot", frozenset({"#ops"})), "#ops", ["hi"])
    assert (taken.status, taken.error) == (409, "nick squatbot is in use by someone else")
