"""IRCv3 Strict Transport Security policies the client has been given, kept per host.

Owns the policy file ($XDG_STATE_HOME/roomchat/sts.json, ~/.local/state by default), the
meaning of the `sts` capability's value, and expiry: a policy seen over TLS holds for
its `duration` from the last time it was seen or the last connection ended. Must not
import asyncio or prompt_toolkit: the network layer decides when to read and write.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path


def default_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser()
                                            / ".local" / "state")
    return Path(base) / "roomchat" / "sts.json"


def parse(value: str) -> dict[str, str]:
    """`port=6697,duration=300` as a dict; unknown keys are kept, and ignored by callers."""
    out: dict[str, str] = {}
    for token in value.split(","):
        key, _, val = token.partition("=")
        if key and key not in out:
            out[key] = val
    return out


@dataclass(frozen=True, slots=True)
class Policy:
    port: int
    duration: int
    expires: float


class PolicyStore:
    """Policies by host name (lowercase), read once and written whole on each change."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._policies: dict[str, Policy] | None = None

    def _load(self) -> dict[str, Policy]:
        if self._policies is None:
            self._policies = {}
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                for host, item in data.items():
                    self._policies[host] = Policy(int(item["port"]), int(item["duration"]),
                                                  float(item["expires"]))
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                pass  # no file yet, or a damaged one: start over rather than refuse to run
        return self._policies

    def get(self, host: str) -> Policy | None:
        """The policy in force for `host`, or None (never seen, or expired)."""
        policy = self._load().get(host.lower())
        if policy is None or policy.expires <= self.clock():
            return None
        return policy

    def seen(self, host: str, port: int, duration: int) -> bool:
        """A persistence policy arrived over TLS on `port`; True when the file must change.

        "A duration value of 0 indicates an immediate expiry of the STS persistence
        policy": the entry is removed.
        """
        policies = self._load()
        key = host.lower()
        if duration <= 0:
            return policies.pop(key, None) is not None
        policies[key] = Policy(port, duration, self.clock() + duration)
        return True

    def reschedule(self, host: str) -> bool:
        """At disconnect: "adding the policy duration as last advertised ... to the time
        the connection is closed". True when the file must change."""
        policies = self._load()
        key = host.lower()
        policy = policies.get(key)
        if policy is None:
            return False
        policies[key] = Policy(policy.port, policy.duration, self.clock() + policy.duration)
        return True

    def save(self) -> None:
        """Write the file (atomically, private to the user); errors are the caller's to say."""
        policies = self._load()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {host: {"port": p.port, "duration": p.duration, "expires": p.expires}
                for host, p in policies.items()}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)
