"""A link for IRC sessions on a hub without sockets: it keeps what it was sent."""

from __future__ import annotations


class Link:
    """What a session writes through, as the transport's Connection offers it; a
    subclass changes the class attributes for a TLS link with a certificate."""

    remote_host = "10.0.0.1"
    secure = False
    certfp = ""

    def __init__(self) -> None:
        self.out = bytearray()

    def write(self, data: bytes) -> None:
        self.out += data

    def close(self, reason: str = "") -> None:
        return None

    def lines(self) -> list[str]:
        """The lines written since the last call, without CRLF."""
        text = self.out.decode()
        self.out.clear()
        return text.split("\r\n")[:-1]
