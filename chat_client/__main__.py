"""The `chat-client` command: read the config, pick a front end, run the event loop.

Owns start-up: configuration errors, the account password when --sasl has none,
uvloop when available, and the choice between full-screen and simple mode. Must not
contain protocol or UI logic.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from chat_client.client import Client
from chat_client.config import ConfigError, load


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: Sequence[str] | None = None) -> None:
    try:
        config = load(sys.argv[1:] if argv is None else argv, os.environ)
    except ConfigError as exc:
        print(f"chat-client: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    if config.sasl and not config.password:
        # Asked for rather than taken on the command line, where `ps` shows it.
        try:
            password = getpass.getpass(f"Password for {config.account or config.nick}: ")
        except (EOFError, KeyboardInterrupt):
            raise SystemExit(1) from None
        config = replace(config, password=password)
    client = Client(config)
    if config.simple:
        from chat_client.simple import run_simple as run
    else:
        from chat_client.ui.app import run_fullscreen as run
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(run(client))


if __name__ == "__main__":
    main()
