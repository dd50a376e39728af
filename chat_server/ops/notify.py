"""Readiness notification for systemd (the sd_notify protocol), without libsystemd.

Owns the wire format: newline-separated KEY=VALUE assignments sent as one datagram to
the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or a name starting with '@' in the
abstract namespace). Without the variable every call does nothing, so the server
behaves the same outside systemd. Must not import anything from chat_server.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger("chat_server.notify")


def notify(*assignments: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send `assignments` (e.g. "READY=1") to the service manager; True when sent.

    A failure is logged and swallowed: the manager's bookkeeping must never stop the
    server from serving.
    """
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall("\n".join(assignments).encode())
    except OSError as exc:
        log.warning("cannot notify the service manager at %s: %s",
                    address.replace("\0", "@"), exc.strerror or exc)
        return False
    return True


def reloading() -> tuple[str, str]:
    """The assignments that open a reload; systemd's notify-reload wants the clock too."""
    return "RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}"
