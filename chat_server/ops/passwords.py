"""`chat-server hash-password`: an argon2id hash for an [[opers]] block.

Owns reading the password without it ever being an argument (argv is visible to every
user of the machine in `ps`): from the terminal without echo, asked twice, or as one
line of standard input for scripts. Must not import the hub, sessions or transport.
"""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from argon2 import PasswordHasher


class PasswordError(ValueError):
    """No usable password was given; the message says why."""


def read_password(stdin: TextIO | None = None) -> str:
    """The password from the terminal (asked twice) or the first line of `stdin`."""
    stream = sys.stdin if stdin is None else stdin
    if stream.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise PasswordError("the two passwords differ")
    else:
        first = stream.readline().rstrip("\r\n")
    if not first:
        raise PasswordError("empty password")
    if any(ch in first for ch in " \x00"):
        # OPER takes the password as one IRC parameter: a space would split it.
        raise PasswordError("the password may not contain a space")
    return first


def hash_password(password: str) -> str:
    """argon2id with argon2-cffi's defaults (RFC 9106's low-memory choice)."""
    return PasswordHasher().hash(password)
