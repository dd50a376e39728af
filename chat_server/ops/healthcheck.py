"""`python -m chat_server.ops.healthcheck [--config PATH]`: exit 0 when the local server
answers a PING.

The container's HEALTHCHECK. An open port is not enough (a wedged event loop still
accepts connections into the kernel's backlog): the server must read a line and answer
it. The address is the one the server is configured with, found the way the server
finds it (chat_server.config: the named file or the first of its search paths, then
ROOMCHAT_* variables), so a port set only in /data/config/roomchat/roomchat.toml is
the port checked. Flags given to the server are not visible here; the image passes
only --host, which this check does not need. Must not import the server's layers
(hub, sessions, transport): it is a client.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Sequence

from chat_server.config import ConfigError, find_file, load

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


def local_address(host: str) -> str:
    """Where to reach a server listening on `host` from the same machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m chat_server.ops.healthcheck",
        description="Exit 0 when the configured local chat server answers a PING.")
    parser.add_argument("--config", metavar="PATH",
                        help="the server's configuration file (default: found as it finds it)")
    args = parser.parse_args(argv)
    try:
        config = load(args.config if args.config else find_file())
    except ConfigError as exc:
        # 1, not 2: Docker reserves 2, and a server that cannot start is not healthy.
        print(f"healthcheck: {exc}", file=sys.stderr)
        sys.exit(1)
    host, port = local_address(config.server.host), config.server.port
    if answers(host, port):
        sys.exit(0)
    print(f"healthcheck: no PONG from {host}:{port}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
