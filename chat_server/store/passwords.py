"""Password work off the event loop: argon2id and SCRAM derivation in worker threads.

Each check costs tens of milliseconds and tens of MiB (argon2id's memory cost), so a
small pool bounds both: a burst of logins queues here instead of stalling the loop or
the machine. Answers go back to the loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from chat_server.hub.accounts import Credentials, make_credentials, verify_password

log = logging.getLogger("chat_server.accounts")

T = TypeVar("T")


class ThreadPasswords:
    """The hub's `Passwords`, on `workers` threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop, workers: int = 2) -> None:
        self.loop = loop
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="passwords")

    def make(self, password: str, iterations: int,
             done: Callable[[Credentials | None], None]) -> None:
        self._run(lambda: make_credentials(password, iterations), done, None)

    def check(self, password_hash: str, password: str, done: Callable[[bool], None]) -> None:
        self._run(lambda: verify_password(password_hash, password), done, False)

    def _run(self, work: Callable[[], T], done: Callable[[T], None], failed: T) -> None:
        def finished(future: Future[T]) -> None:
            if future.cancelled():
                return  # the server is stopping: nobody is waiting for the answer
            exc = future.exception()
            if exc is not None:
                # Never the password: only what failed.
                log.error("password work failed: %s", type(exc).__name__)
            # A loop closed meanwhile (the server stopped) raises: nobody to tell.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(
                    done, failed if exc is not None else future.result())

        try:
            self.pool.submit(work).add_done_callback(finished)
        except RuntimeError:  # shut down: the server is stopping
            self.loop.call_soon(done, failed)

    def close(self) -> None:
        """At stop: work not begun is dropped; what runs finishes in its thread."""
        self.pool.shutdown(wait=False, cancel_futures=True)
