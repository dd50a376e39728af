"""SASL's framing on IRC (IRCv3 sasl-3.1) and the PLAIN message (RFC 4616).

A SASL response travels base64-encoded in AUTHENTICATE lines of at most 400 bytes; a
chunk of exactly 400 means more follows, and "+" is an empty chunk (an empty response,
or the end after a full one). Both sides need the same rules, so they live here as
pure functions; the exchange itself is `hub/sasl.py`'s. Must not import beyond the
protocol package.
"""

from __future__ import annotations

import base64
import binascii

# Longest AUTHENTICATE parameter (sasl-3.1), in bytes of base64.
CHUNK = 400


class SaslError(ValueError):
    """A response that cannot be taken (the text never holds what the client sent)."""


class TooLong(SaslError):
    """A chunk over CHUNK bytes: 905."""


class Malformed(SaslError):
    """Bad base64, a response past the limit, or a message its mechanism cannot
    read: 904."""


def encode_response(data: bytes) -> list[str]:
    """The AUTHENTICATE parameters that carry `data`, in order."""
    text = base64.b64encode(data).decode("ascii")
    chunks = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)]
    if not chunks or len(chunks[-1]) == CHUNK:
        chunks.append("+")
    return chunks


class ResponseReader:
    """Puts one response back together from its AUTHENTICATE chunks. A limit on the
    whole keeps a client from holding the server's memory with endless full chunks."""

    __slots__ = ("_parts", "_size", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[str] = []
        self._size = 0

    def add(self, chunk: str) -> bytes | None:
        """The decoded response once its last chunk is in, else None (more follows).

        Raises TooLong or Malformed; the reader is empty again after a response or an
        error."""
        if chunk == "+":
            chunk = ""
        elif not chunk:
            self._reset()
            raise Malformed("an empty chunk is sent as +")
        size = len(chunk.encode("utf-8", "replace"))
        if size > CHUNK:
            self._reset()
            raise TooLong("a line over 400 bytes")
        if self._size + size > self.limit:
            self._reset()
            raise Malformed("response too long")
        self._parts.append(chunk)
        self._size += size
        if size == CHUNK:
            return None
        text = "".join(self._parts)
        self._reset()
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise Malformed("invalid base64") from None

    def _reset(self) -> None:
        self._parts = []
        self._size = 0


def decode_plain(data: bytes) -> tuple[str, str, str]:
    """(authzid, authcid, password) of a PLAIN message: `[authzid] NUL authcid NUL
    password`, UTF-8. Raises Malformed for anything else, or without an authcid or a
    password."""
    parts = data.split(b"\0")
    if len(parts) != 3:
        raise Malformed("a PLAIN message has three fields")
    try:
        authzid, authcid, password = (part.decode("utf-8") for part in parts)
    except UnicodeDecodeError:
        raise Malformed("a PLAIN message is UTF-8") from None
    if not authcid or not password:
        raise Malformed("a PLAIN message names an account and gives a password")
    return authzid, authcid, password


def encode_plain(authcid: str, password: str, authzid: str = "") -> bytes:
    """The PLAIN message a client sends."""
    return "\0".join((authzid, authcid, password)).encode("utf-8")
