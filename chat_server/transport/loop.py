"""The one place that chooses the event loop: uvloop when it imports, asyncio otherwise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("chat_server")


def loop_factory() -> tuple[Callable[[], asyncio.AbstractEventLoop], str]:
    """The factory for asyncio.Runner and its name, warning when uvloop is missing."""
    try:
        import uvloop
    except ImportError:
        log.warning("uvloop is not available; using the standard asyncio event loop")
        return asyncio.new_event_loop, "asyncio"
    return uvloop.new_event_loop, "uvloop"
