"""Reloading the configuration on SIGHUP: assemble it again, apply what can change live.

Owns where the configuration came from at start (file, environment, flags, working
directory), so that a reload reads it the same way, and which keys take effect in a
running server, which only for new connections, and which need a restart. Must not
import the session or transport layers: the limits object they hold is changed in
place, and the hub's copies are updated here.
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chat_server.config import Config, find_file, load, sections
from chat_server.hub.hub import Hub

# Bound to the listening sockets, to what connected clients were already told, or to
# the open store and the sizes of its memory.
NEEDS_RESTART = frozenset(
    {"server.host", "server.port", "server.name", "server.network", "server.log_format",
     "tls.port", "tls.sts", "metrics.listen", "metrics.lag_interval",
     "store.backend", "store.data_dir", "store.busy_timeout",
     "history.memory_per_target", "history.memory_targets",
     "web.listen", "web.origins", "web.tokens_file"}
)
# Each connection sizes its line framer when it opens.
NEW_CONNECTIONS_ONLY = frozenset(
    {"limits.max_line_bytes", "tls.cert", "tls.key", "tls.client_ca", "web.max_body_bytes"}
)
# Changes are reported, values never.
SECRET = frozenset({"server.password"})


@dataclass(slots=True)
class ConfigSource:
    """The inputs of the configuration at start, to assemble it again on reload."""

    # Named by --config; None means searching the usual places (again on each reload).
    path: Path | None
    flags: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # Relative paths are taken from here, also after a daemon has moved to /.
    base_dir: str = field(default_factory=os.getcwd)
    # What the last load had to say without refusing (unknown environment variables).
    warnings: list[str] = field(default_factory=list)

    def file(self) -> Path | None:
        """The file to read, as an absolute path; None for defaults only."""
        path = self.path if self.path is not None else find_file(self.environ)
        return None if path is None else Path(self.base_dir, path)

    def load(self) -> Config:
        """The effective configuration; raises ConfigError naming the key and its file."""
        self.warnings = []
        config = load(self.file(), self.environ, self.flags, self.warnings)
        if config.server.motd_file:
            config.server.motd_file = os.path.join(self.base_dir, config.server.motd_file)
        for key in ("cert", "key", "client_ca"):
            value = getattr(config.tls, key)
            if value:
                setattr(config.tls, key, os.path.join(self.base_dir, value))
        return config


def _differences(live: Config, new: Config) -> list[tuple[str, str, Any, Any]]:
    out = []
    for section_field in sections(live):
        old_section = getattr(live, section_field.name)
        new_section = getattr(new, section_field.name)
        for f in dataclasses.fields(old_section):
            old, value = getattr(old_section, f.name), getattr(new_section, f.name)
            if old != value:
                out.append((section_field.name, f.name, old, value))
    return out


def apply_reload(live: Config, hub: Hub, new: Config, motd: list[str]) -> list[str]:
    """Apply `new` to the running server in place; one line for the log per change."""
    notes: list[str] = []
    for section, key, old, value in _differences(live, new):
        name = f"{section}.{key}"
        if name in NEEDS_RESTART:
            notes.append(f"{name} changed to {value!r}: needs a restart")
            continue
        setattr(getattr(live, section), key, value)
        change = "changed" if name in SECRET else f"{old!r} -> {value!r}"
        if name in NEW_CONNECTIONS_ONLY:
            change += " (for new connections)"
        notes.append(f"{name} {change}")
    # The hub copied these at start; the limits object it shares with the listener
    # was changed in place above.
    hub.settings.password = live.server.password
    hub.settings.description = live.server.description
    if hub.settings.sts_port:
        hub.settings.sts_duration = live.tls.sts_duration
    if hub.whowas.maxlen != live.limits.whowas_size:
        hub.whowas = deque(hub.whowas, maxlen=live.limits.whowas_size)
    if new.opers != live.opers:
        live.opers = hub.settings.opers = new.opers
        count = len(new.opers)
        notes.append(f"opers reloaded: {count} block{'' if count == 1 else 's'}")
    if motd != hub.settings.motd:
        hub.settings.motd = motd
        notes.append(f"motd reloaded: {len(motd)} line{'' if len(motd) == 1 else 's'}")
    return notes
