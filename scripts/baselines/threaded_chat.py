"""The classic thread-per-connection chat room, as a benchmark baseline.

This is the design roomchat replaces, written the way the well-known tutorials write it:
one blocking thread per socket, one shared table of connections guarded by one lock,
and a broadcast that calls the blocking ``sendall`` on every member in turn while
holding that lock. It is kept faithful on purpose, so a slow reader stalls the room and
every message costs one system call per member: that is what the benchmarks measure.

It speaks just enough IRC for scripts/bench: NICK and USER (answered with 001), JOIN
(echoed to the room, so the joiner knows it is in), PRIVMSG to a channel (relayed with a
source prefix to every other member of that channel), PING and QUIT. Rooms are the one
departure from the tutorial's single shared list, so that multi-room scenarios compare
like with like: the table maps a room name to its list of sockets.

Run: python threaded_chat.py --port 16668 [--host 127.0.0.1] [--lifetime SECONDS]
It stops by itself after --lifetime seconds (default one hour).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import threading

SERVER_NAME = "threaded.local"
# The tutorials read with recv(1024); lines are framed with a file object instead, so
# that one IRC line is one command however the bytes were split.
READ_SIZE = 1024

rooms: dict[str, list[socket.socket]] = {}
rooms_lock = threading.Lock()


def broadcast(room: str, line: bytes, sender: socket.socket | None) -> None:
    """Send one line to every member of a room but the sender, blocking on each."""
    with rooms_lock:
        for member in rooms.get(room, ()):
            if member is not sender:
                with contextlib.suppress(OSError):
                    member.sendall(line)


def leave_all(conn: socket.socket, prefix: str) -> None:
    """Remove a connection from every room and tell the rooms it quit."""
    left: list[str] = []
    with rooms_lock:
        for name, members in rooms.items():
            if conn in members:
                members.remove(conn)
                left.append(name)
    if prefix:
        for name in left:
            broadcast(name, f":{prefix} PART {name} :Quit\r\n".encode(), conn)


def handle(conn: socket.socket, host: str) -> None:
    """Serve one client until it quits or disconnects; runs in its own thread."""
    nick = ""
    prefix = ""
    registered = False
    reader = conn.makefile("rb", buffering=READ_SIZE)
    try:
        for raw in reader:
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            command, _, rest = line.partition(" ")
            command = command.upper()
            if command == "NICK":
                nick = rest.split(" ")[0].lstrip(":")
                prefix = f"{nick}!{nick}@{host}"
            elif command == "USER" and nick and not registered:
                registered = True
                conn.sendall(f":{SERVER_NAME} 001 {nick} :Welcome {prefix}\r\n".encode())
            elif command == "PING":
                conn.sendall(f":{SERVER_NAME} PONG {SERVER_NAME} {rest}\r\n".encode())
            elif command == "QUIT":
                break
            elif not registered:
                continue
            elif command == "JOIN":
                room = rest.split(" ")[0].lstrip(":")
                with rooms_lock:
                    rooms.setdefault(room, []).append(conn)
                joined = f":{prefix} JOIN {room}\r\n".encode()
                conn.sendall(joined)
                broadcast(room, joined, conn)
            elif command == "PRIVMSG":
                target, _, text = rest.partition(" ")
                broadcast(target, f":{prefix} PRIVMSG {target} {text}\r\n".encode(), conn)
    except OSError:
        pass
    finally:
        leave_all(conn, prefix)
        try:
            reader.close()
            conn.close()
        except OSError:
            pass


def serve(host: str, port: int, lifetime: float) -> None:
    """Accept forever, one new thread per connection; exit after ``lifetime`` seconds."""
    timer = threading.Timer(lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(4096)
    while True:
        conn, (peer, _) = listener.accept()
        threading.Thread(target=handle, args=(conn, peer), daemon=True).start()


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=16668)
    parser.add_argument("--lifetime", type=float, default=3600.0)
    args = parser.parse_args()
    serve(args.host, args.port, args.lifetime)


if __name__ == "__main__":
    main()
