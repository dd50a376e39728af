"""Posting tokens for the web API, read from the TOML file [web] tokens_file names.

Owns the file's shape and its checks: each token is bound to one nick and the rooms it
may post to. Kept apart from config.py because the file is a list of records, not
settings, and is usually readable by fewer people. Must not import the hub, sessions or
transport.

    [[token]]
    token = "a-long-random-secret"
    nick = "deploybot"
    rooms = ["#ops", "#lobby"]   # ["*"]: every room
"""

from __future__ import annotations

import hmac
import tomllib
from dataclasses import dataclass

from chat_server.config import ConfigError
from chat_server.protocol import names

# A guessable token is no token: refuse short ones at start rather than at the first leak.
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True, slots=True)
class Token:
    secret: str
    nick: str
    # Folded room names; empty with `any_room`.
    rooms: frozenset[str]
    any_room: bool = False

    def may_post(self, room: str) -> bool:
        return self.any_room or names.fold(room) in self.rooms


class Tokens:
    """The tokens in force; looking one up compares in constant time."""

    __slots__ = ("_tokens",)

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens

    def __len__(self) -> int:
        return len(self._tokens)

    def find(self, secret: str) -> Token | None:
        found = None
        for token in self._tokens:
            if hmac.compare_digest(token.secret.encode(), secret.encode()):
                found = token
        return found


def load_tokens(path: str) -> Tokens:
    """The tokens of `path` ("" for none); ConfigError naming the file and the entry."""
    if not path:
        return Tokens([])
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"token"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]} (write [[token]] tables)")
    entries = data.get("token", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: token must be [[token]] tables")
    tokens: list[Token] = []
    secrets: set[str] = set()
    for number, entry in enumerate(entries, 1):
        where = f"{path}: token {number}"
        if not isinstance(entry, dict) or set(entry) - {"token", "nick", "rooms"}:
            raise ConfigError(f"{where}: only token, nick and rooms may be set")
        secret, nick, rooms = entry.get("token"), entry.get("nick"), entry.get("rooms")
        if not isinstance(secret, str) or len(secret) < MIN_TOKEN_CHARS or not secret.isprintable():
            raise ConfigError(f"{where}: token must be at least {MIN_TOKEN_CHARS} characters")
        if secret in secrets:
            raise ConfigError(f"{where}: the same token is listed twice")
        secrets.add(secret)
        if not isinstance(nick, str) or not names.is_valid_nick(nick):
            raise ConfigError(f"{where}: nick {nick!r} is not a valid nickname")
        if not isinstance(rooms, list) or not rooms or not all(isinstance(r, str) for r in rooms):
            raise ConfigError(f"{where}: rooms must be a list of room names, or [\"*\"]")
        if rooms == ["*"]:
            tokens.append(Token(secret, nick, frozenset(), any_room=True))
            continue
        bad = [room for room in rooms if not names.is_valid_room(room)]
        if bad:
            raise ConfigError(f"{where}: {bad[0]!r} is not a room name (e.g. \"#ops\")")
        tokens.append(Token(secret, nick, frozenset(names.fold(room) for room in rooms)))
    return Tokens(tokens)
