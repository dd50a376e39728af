"""`python -m chat_server.ops.healthcheck`: exit 0 when the local server answers a PING.

The container's HEALTHCHECK. An open port is not enough (a wedged event loop still
accepts connections into the kernel's backlog): the server must read a line and answer
it. The port is the one the server is configured with through ROOMCHAT_SERVER_PORT,
else the default. Must not import the server's layers: it is a client.
"""

from __future__ import annotations

import os
import socket
import sys
import time

TOKEN = "roomchat-healthcheck"
TIMEOUT = 3.0


def answers(host: str, port: int, timeout: float = TIMEOUT) -> bool:
    """True when the server at host:port answers `PING` with its `PONG` in time."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(f"PING {TOKEN}\r\n".encode())
            received = b""
            while time.monotonic() < deadline:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(4096)
                if not chunk:
                    return False
                received += chunk
                for line in received.split(b"\r\n")[:-1]:
                    if b" PONG " in line and TOKEN.encode() in line:
                        sock.sendall(b"QUIT\r\n")
                        return True
    except OSError:
        return False
    return False


def main() -> None:
    port = int(os.environ.get("ROOMCHAT_SERVER_PORT") or 6667)
    sys.exit(0 if answers("127.0.0.1", port) else 1)


if __name__ == "__main__":
    main()
