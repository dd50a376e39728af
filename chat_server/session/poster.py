"""Posting from scripts: one bot user per token nick, who joins and speaks like anyone.

Owns what `POST /api/rooms/ROOM/messages` does in the hub. Like a webhook bridge, each
token's nick is a user that stays once it has posted: it joins the room the first
time (room-mates see the JOIN), then every line is a PRIVMSG through the hub's own
command table, so room modes, bans and history apply as to any client. The bot has no
socket: it is an IrcSession over a link that keeps the hub's replies of the post in
hand, to tell the poster what went wrong. Each nick has the flood policy's token
bucket ([limits] flood_burst, flood_rate): a post that needs more lines than are
available is refused whole with 429 rather than half-posted.
Knows the hub; nothing of HTTP's bytes (the web session turns outcomes into responses).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from chat_server.config import LimitsSection
from chat_server.hub.hub import Hub
from chat_server.hub.model import Room
from chat_server.protocol import numerics as N
from chat_server.protocol.errors import ProtocolViolation
from chat_server.protocol.message import Message, parse_line
from chat_server.session.irc import IrcSession
from chat_server.tokens import Token

# The host part of a bot's source (nick!~nick@HOST): says where its lines come from.
BOT_HOST = "web-api"

# Refusals of a JOIN or a PRIVMSG the poster can do something about: 403, with the
# hub's own words.
_REFUSALS = frozenset({
    N.ERR_CANNOTSENDTOCHAN, N.ERR_BANNEDFROMCHAN, N.ERR_INVITEONLYCHAN,
    N.ERR_BADCHANNELKEY, N.ERR_CHANNELISFULL, N.ERR_TOOMANYCHANNELS, N.ERR_INPUTTOOLONG,
})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a post came to: an HTTP status and a sentence for {"error": ...}."""

    status: int
    error: str = ""
    retry_after: int = 0
    posted: int = 0


class _Capture:
    """The bot's link: no socket; what the hub writes during a post is kept to read,
    the room's traffic between posts is not."""

    __slots__ = ("closed", "lines", "recording")

    remote_host = BOT_HOST
    secure = False
    certfp = ""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.closed = False
        self.recording = True

    def write(self, data: bytes) -> None:
        if self.recording and len(self.lines) < 64:
            self.lines.append(data)

    def close(self, reason: str = "") -> None:
        self.closed = True


class _Bot:
    __slots__ = ("link", "session", "tokens", "tokens_at")

    def __init__(self, hub: Hub, burst: float, now: float) -> None:
        self.link = _Capture()
        self.session = IrcSession(hub, self.link)
        self.tokens = burst
        self.tokens_at = now

    def say(self, line: str) -> None:
        self.session.on_line(line.encode())

    def errors(self) -> list[Message]:
        """Error numerics the hub answered since the last call."""
        found: list[Message] = []
        for chunk in self.link.lines:
            for raw in chunk.split(b"\r\n"):
                try:
                    msg = parse_line(raw) if raw else None
                except ProtocolViolation:
                    continue
                if msg is not None and msg.command.isdigit() and msg.command >= "400":
                    found.append(msg)
        self.link.lines.clear()
        return found


class Posters:
    """The bots, made on first use and kept; one per token nick."""

    __slots__ = ("_bots", "clock", "hub", "limits", "password")

    def __init__(self, hub: Hub, limits: LimitsSection, clock: Callable[[], float],
                 password: str = "") -> None:
        self.hub = hub
        self.limits = limits
        self.clock = clock
        self.password = password
        self._bots: dict[str, _Bot] = {}

    def post(self, token: Token, room: str, lines: list[str]) -> Outcome:
        """Say `lines` in `room` as the token's nick; the hub decides as for anyone."""
        if not token.may_post(room):
            return Outcome(403, f"this token may not post to {room}")
        found = self.hub.find_room(room)
        if found is None:
            return Outcome(404, f"no room {room}: nobody is in it")
        if len(lines) > self.limits.flood_backlog:
            return Outcome(413, f"{len(lines)} lines in one post; at most "
                                f"{self.limits.flood_backlog}")
        bot = self._bot(token)
        if isinstance(bot, Outcome):
            return bot
        bot.link.recording = True
        try:
            return self._say(bot, found, lines)
        finally:
            bot.link.recording = False
            bot.link.lines.clear()

    def _say(self, bot: _Bot, found: Room, lines: list[str]) -> Outcome:
        wait = self._spend(bot, len(lines))
        if wait:
            return Outcome(429, "posting too fast; try again later", retry_after=wait)
        if bot.session.user not in found.members:
            bot.say(f"JOIN {found.name}")
            refused = self._refusal(bot)
            if refused is not None:
                return refused
        for number, line in enumerate(lines):
            bot.say(f"PRIVMSG {found.name} :{line}")
            refused = self._refusal(bot)
            if refused is not None:
                if number:
                    return Outcome(refused.status, f"{refused.error} (after {number} lines)")
                return refused
        return Outcome(201, posted=len(lines))

    def _bot(self, token: Token) -> _Bot | Outcome:
        """The nick's bot, registering it if it is not (or no longer) on the server."""
        key = token.nick.lower()
        bot = self._bots.get(key)
        # In a cluster the claim may still be on its way: its lines wait for it.
        if bot is not None and not bot.link.closed and (
                bot.session.user.registered or bot.session.user.pending):
            return bot
        existing = self.hub.find_user(token.nick)
        if existing is not None:
            return Outcome(409, f"nick {token.nick} is in use by someone else")
        bot = _Bot(self.hub, float(self.limits.flood_burst), self.clock())
        if self.password:
            bot.say(f"PASS :{self.password}")
        bot.say(f"NICK {token.nick}")
        bot.say(f"USER {token.nick[:10]} 0 * :posts from scripts (web API)")
        bot.errors()
        if not bot.session.user.registered and not bot.session.user.pending:
            bot.session.terminate("registration refused")
            return Outcome(409, f"nick {token.nick} cannot be registered")
        self._bots[key] = bot
        bot.link.recording = False
        return bot

    def _spend(self, bot: _Bot, lines: int) -> int:
        """Take `lines` tokens from the bucket; 0, or the seconds to wait when short."""
        limits = self.limits
        if limits.flood_rate <= 0:
            return 0
        now = self.clock()
        bot.tokens = min(float(limits.flood_burst),
                         bot.tokens + (now - bot.tokens_at) * limits.flood_rate)
        bot.tokens_at = now
        if bot.tokens >= lines:
            bot.tokens -= lines
            return 0
        return max(1, math.ceil((lines - bot.tokens) / limits.flood_rate))

    @staticmethod
    def _refusal(bot: _Bot) -> Outcome | None:
        for msg in bot.errors():
            if msg.command in _REFUSALS:
                return Outcome(403, msg.params[-1] if msg.params else "refused")
            return Outcome(400, msg.params[-1] if msg.params else "refused")
        return None
