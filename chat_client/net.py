"""The connection: asyncio streams, lag pings, and reconnecting with backoff and jitter.

Owns the socket (plain or TLS, verified against the system's CAs or --tls-ca), the
read loop that feeds the client core, the PING timer that measures lag and notices a
dead link, the retry schedule, and IRCv3 STS: a plaintext connection told of a TLS port
moves there, and a policy seen over TLS keeps this host on TLS for its duration. An
untrusted certificate ends the retrying with one line: trying again will not help.
Knows nothing about IRC grammar or the screen. Must not import prompt_toolkit.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import ssl
from dataclasses import dataclass

from chat_client import sts
from chat_client.client import Client
from chat_client.state import ConnState, LineKind

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


@dataclass(frozen=True, slots=True)
class Ended:
    """How one connection ended: why, and the TLS port STS sent us to, if it did."""

    reason: str
    upgrade_port: int | None = None


class Connection:
    """Keeps one client connected until it quits."""

    def __init__(self, client: Client, rng: random.Random | None = None,
                 policies: sts.PolicyStore | None = None) -> None:
        self.client = client
        self.config = client.config
        self.rng = rng or random.Random()
        self.policies = policies or sts.PolicyStore(sts.default_path(os.environ))

    def _ssl_context(self) -> ssl.SSLContext:
        """The system's CAs, or only those of --tls-ca; no check at all with --tls-insecure."""
        ctx = ssl.create_default_context(cafile=self.config.tls_ca or None)
        if not self.config.tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _target(self, upgrade_port: int | None) -> tuple[bool, int]:
        """(TLS?, port): as configured, unless STS says this host is TLS-only."""
        if self.config.tls:
            return True, self.config.port
        policy = self.policies.get(self.config.host)
        if policy is not None:
            return True, policy.port
        if upgrade_port is not None:
            return True, upgrade_port
        return False, self.config.port

    async def run(self) -> None:
        """Connect, and after every loss wait out the backoff and connect again."""
        state = self.client.state
        host = self.config.host
        attempt = 0
        upgrade_port: int | None = None
        while not self.client.quitting:
            tls, port = self._target(upgrade_port)
            state.set_connection(ConnState.CONNECTING, f"{host}:{port}{' (TLS)' if tls else ''}")
            try:
                context = self._ssl_context() if tls else None
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port, ssl=context),
                    CONNECT_TIMEOUT,
                )
            except ssl.SSLCertVerificationError as exc:
                self._untrusted(host, port, exc)
                return
            except (OSError, TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
            else:
                ended = await self._session(reader, writer, tls, port)
                reason = ended.reason
                if ended.upgrade_port is not None and not tls:
                    # STS: "close the insecure connection and reconnect securely".
                    upgrade_port = ended.upgrade_port
                    attempt = 0
                    continue
                if self.client.protocol.registered:
                    attempt = 0
            if self.client.quitting:
                break
            await self._wait_before_retry(attempt, reason)
            attempt += 1

    def _untrusted(self, host: str, port: int, exc: ssl.SSLCertVerificationError) -> None:
        """One line saying why and what to do, then no more attempts."""
        why = exc.verify_message or exc.reason or str(exc)
        if self.config.tls_ca:
            text = f"is not trusted by {self.config.tls_ca}: {why}"
        else:
            text = f"is not trusted: {why}; use --tls-ca FILE for a private CA"
        state = self.client.state
        state.add_line(state.server_buffer, LineKind.ERROR,
                       f"TLS certificate of {host}:{port} {text}")
        state.set_connection(ConnState.DISCONNECTED, "certificate not trusted")

    async def _save_policies(self) -> None:
        try:
            await asyncio.to_thread(self.policies.save)
        except OSError as exc:
            self.client.state.info(f"Cannot save the STS policy to {self.policies.path}: "
                                   f"{exc.strerror}", self.client.state.server_buffer,
                                   error=True)

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

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       secure: bool, port: int) -> Ended:
        """Run one connection to its end; say why it ended."""
        client = self.client
        client.attach(writer.write, secure)
        pinger = asyncio.create_task(self._pinger(writer))
        seen = False
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    return Ended("connection closed by server")
                client.receive(data)
                offered = None if seen else client.protocol.offered("sts")
                if offered is not None:
                    seen = True
                    keys = sts.parse(offered)
                    if not secure and keys.get("port", "").isdigit():
                        return Ended("the server asks for TLS (STS)", int(keys["port"]))
                    duration = keys.get("duration", "")
                    if (secure and duration.isdigit()
                            and self.policies.seen(self.config.host, port, int(duration))):
                        await self._save_policies()
        except OSError as exc:
            return Ended(str(exc) or type(exc).__name__)
        finally:
            if secure and self.policies.reschedule(self.config.host):
                await self._save_policies()
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
