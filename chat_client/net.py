"""The connection: asyncio streams, lag pings, and reconnecting with backoff and jitter.

Owns the socket (plain or TLS), the read loop that feeds the client core, the PING
timer that measures lag and notices a dead link, and the retry schedule. Knows nothing
about IRC grammar or the screen. Must not import prompt_toolkit.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import ssl

from chat_client.client import Client
from chat_client.state import ConnState

CONNECT_TIMEOUT = 15.0
# A PING unanswered for this long means the link is dead even if TCP has not noticed.
PING_TIMEOUT = 90.0
READ_SIZE = 65536


def backoff_delay(attempt: int, low: float, high: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random.

    Clients that lost the same server at the same moment then spread their retries
    instead of arriving together, while each still waits at least half the step.
    """
    step: float = min(high, low * 2.0 ** min(attempt, 30))
    jitter: float = rng.uniform(0, step / 2)
    return step / 2 + jitter


class Connection:
    """Keeps one client connected until it quits."""

    def __init__(self, client: Client, rng: random.Random | None = None) -> None:
        self.client = client
        self.config = client.config
        self.rng = rng or random.Random()

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.config.tls:
            return None
        ctx = ssl.create_default_context()
        if not self.config.tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    async def run(self) -> None:
        """Connect, and after every loss wait out the backoff and connect again."""
        state = self.client.state
        host, port = self.config.host, self.config.port
        attempt = 0
        while not self.client.quitting:
            state.set_connection(ConnState.CONNECTING, f"{host}:{port}")
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port, ssl=self._ssl_context()),
                    CONNECT_TIMEOUT,
                )
            except (OSError, TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
            else:
                reason = await self._session(reader, writer)
                if self.client.protocol.registered:
                    attempt = 0
            if self.client.quitting:
                break
            await self._wait_before_retry(attempt, reason)
            attempt += 1

    async def _wait_before_retry(self, attempt: int, reason: str) -> None:
        delay = backoff_delay(attempt, self.config.reconnect_min, self.config.reconnect_max,
                              self.rng)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        state = self.client.state
        while not self.client.quitting:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            state.set_connection(
                ConnState.RECONNECTING,
                f"{reason}; retry {attempt + 1} in {math.ceil(remaining)}s",
            )
            # Wake each second to count down; the fraction first keeps the count exact.
            await asyncio.sleep(remaining - math.floor(remaining) or 1.0)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                       ) -> str:
        """Run one connection to its end; return why it ended."""
        client = self.client
        client.attach(writer.write)
        pinger = asyncio.create_task(self._pinger(writer))
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    return "connection closed by server"
                client.receive(data)
        except OSError as exc:
            return str(exc) or type(exc).__name__
        finally:
            client.detach()
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _pinger(self, writer: asyncio.StreamWriter) -> None:
        """Measure lag every interval; drop a link whose PING goes unanswered."""
        protocol = self.client.protocol
        while True:
            await asyncio.sleep(self.config.ping_interval)
            if not protocol.registered:
                continue
            waited = protocol.seconds_since_ping()
            if waited is not None and waited > PING_TIMEOUT:
                writer.transport.abort()
                return
            protocol.ping()
            self.client.flush()
