"""What every dialect's session shares: the link, the hub's user, and the way out.

Owns the parts of a session that do not depend on the dialect: how the transport
reaches it (`ready`, `label`, `terminate`, `connection_lost`) and how the hub closes
it. IRC and plain sessions build on it; the detector stays apart (it has no dialect
yet). Knows the hub; knows nothing of sockets (it writes through `Link`) or asyncio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from chat_server.hub.hub import Hub
from chat_server.hub.model import Peer, User


class Link(Protocol):
    """What a session needs from its connection."""

    remote_host: str
    # Over TLS, and the fingerprint of the client's certificate ("" without one).
    secure: bool
    certfp: str

    def write(self, data: bytes) -> None: ...

    def close(self, reason: str = "") -> None: ...


class SessionBase:
    """A connection's person in the hub, and the transport's calls that end it."""

    __slots__ = ("hub", "link", "user", "write")

    def __init__(self, hub: Hub, link: Link, peer: Peer) -> None:
        self.hub = hub
        self.link = link
        # The hub's Peer.write, bound straight to the connection: one call per delivery.
        self.write = link.write
        self.user: User = hub.connect(peer, link.remote_host, secure=link.secure,
                                      certfp=link.certfp)

    # -- Peer (called by the hub) -------------------------------------------------

    def close(self, reason: str) -> None:
        self.link.close(reason)

    def outbox(self) -> tuple[list[bytes], object, Callable[[list[object]], None]] | None:
        """The connection's queue, for a room's fan-out to append to (hub/fanout.py)."""
        offer = getattr(self.link, "outbox", None)
        return offer() if offer is not None else None

    # -- Session (called by the transport) ----------------------------------------

    @property
    def ready(self) -> bool:
        return self.user.registered

    @property
    def label(self) -> str:
        """How logs name this client."""
        return self.user.nick or "-"

    def terminate(self, reason: str) -> None:
        """The transport is dropping this client (timeouts, flood, SendQ): say why."""
        self.hub.disconnect(self.user, reason, tell_user=reason)

    def connection_lost(self, reason: str) -> None:
        self.hub.disconnect(self.user, reason)

    @property
    def busy(self) -> bool:
        """A password check of theirs is running, and their next lines wait for it."""
        return self.user.pending > 0
