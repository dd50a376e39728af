"""Typed configuration: defaults < TOML file < environment < command-line flags.

Owns every tunable of the server, with the reason for each default beside it. Sections
map to TOML tables and to environment variables ROOMCHAT_<SECTION>_<KEY>. Must not
import the hub, sessions or transport: they receive these values, not this module's
loading rules.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chat_server.protocol.message import MAX_LINE_BYTES

ENV_PREFIX = "ROOMCHAT_"


class ConfigError(ValueError):
    """A bad configuration value; the message names the key and where it came from."""


@dataclass(slots=True)
class ServerSection:
    host: str = "127.0.0.1"
    port: int = 6667
    # Shown as the source of numerics and in the welcome burst.
    name: str = "roomchat.local"
    network: str = "roomchat"
    motd_file: str = ""
    # Optional connection password (PASS); empty means none is asked for.
    password: str = ""
    log_level: str = "INFO"
    # Room a plain-mode user lands in after picking a nickname.
    default_room: str = "#lobby"


@dataclass(slots=True)
class LimitsSection:
    # Seconds a connection may take to finish NICK/USER (and CAP END) before it is dropped.
    registration_timeout: float = 30.0
    # Seconds of silence from a client before the server sends PING ...
    ping_interval: float = 90.0
    # ... and seconds after that PING before the client is dropped with "Ping timeout".
    ping_timeout: float = 60.0
    # Longest accepted line including tags: 8191 bytes of tags + 512 of the rest.
    max_line_bytes: int = MAX_LINE_BYTES
    # Flood control, a token bucket per client: `flood_burst` lines at once, then
    # `flood_rate` lines a second; 0 turns it off (benchmarks, trusted bridges).
    flood_burst: int = 20
    flood_rate: float = 4.0
    # Lines read but held back by flood control past which the client is dropped
    # with "Excess Flood": a paste is delayed, a flood is cut off.
    flood_backlog: int = 200
    # Bytes queued for one client that has stopped reading before "SendQ exceeded".
    sendq_bytes: int = 1 << 20
    max_connections: int = 20000
    max_connections_per_ip: int = 32
    max_rooms_per_user: int = 50
    # Targets one PRIVMSG/NOTICE/JOIN may name (MAXTARGETS).
    max_targets: int = 4
    # Entries in a room's ban list.
    max_bans: int = 100
    # Nicknames remembered for WHOWAS.
    whowas_size: int = 1000
    # Seconds clients get to receive the shutdown notice before connections are cut.
    shutdown_grace: float = 2.0


@dataclass(slots=True)
class Config:
    server: ServerSection = field(default_factory=ServerSection)
    limits: LimitsSection = field(default_factory=LimitsSection)


_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("server", "port"): (0, 65535),
    ("limits", "registration_timeout"): (0.05, 3600),
    ("limits", "ping_interval"): (0.05, 86400),
    ("limits", "ping_timeout"): (0.05, 86400),
    ("limits", "max_line_bytes"): (512, 1 << 20),
    ("limits", "flood_burst"): (1, 1 << 20),
    ("limits", "flood_rate"): (0, 1 << 20),
    ("limits", "flood_backlog"): (1, 1 << 20),
    ("limits", "sendq_bytes"): (4096, 1 << 30),
    ("limits", "max_connections"): (1, 1 << 24),
    ("limits", "max_connections_per_ip"): (1, 1 << 24),
    ("limits", "max_rooms_per_user"): (1, 10000),
    ("limits", "max_targets"): (1, 100),
    ("limits", "max_bans"): (0, 100000),
    ("limits", "whowas_size"): (0, 1 << 20),
    ("limits", "shutdown_grace"): (0, 600),
}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _convert(section: str, key: str, value: Any, expected: type, where: str) -> Any:
    """Coerce one value to the field's type (strings from the environment and flags too)."""
    name = f"{section}.{key}"
    try:
        if expected is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError
                value = low in ("1", "true", "yes", "on")
            elif not isinstance(value, bool):
                raise ValueError
        elif expected is int:
            if isinstance(value, (bool, float)):
                raise ValueError
            value = int(value)
        elif expected is float:
            if isinstance(value, bool):
                raise ValueError
            value = float(value)
        elif expected is str and not isinstance(value, str):
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"{where}: {name} must be {expected.__name__}, got {value!r}"
        ) from None
    bounds = _RANGES.get((section, key))
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ConfigError(
            f"{where}: {name} = {value!r} is out of range ({bounds[0]:g} to {bounds[1]:g})"
        )
    if name == "server.log_level":
        value = value.upper()
        if value not in _LOG_LEVELS:
            raise ConfigError(f"{where}: {name} must be one of {', '.join(_LOG_LEVELS)}")
    return value


def _field_types(section_obj: Any) -> dict[str, type]:
    defaults = {f.name: getattr(section_obj, f.name) for f in dataclasses.fields(section_obj)}
    return {k: type(v) for k, v in defaults.items()}


def apply(config: Config, values: Mapping[str, Mapping[str, Any]], where: str) -> None:
    """Set values given as {section: {key: value}}, rejecting unknown keys by name."""
    sections = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    for section, table in values.items():
        target = sections.get(section)
        if target is None or not isinstance(table, Mapping):
            raise ConfigError(f"{where}: unknown section [{section}]")
        types = _field_types(target)
        for key, value in table.items():
            if key not in types:
                raise ConfigError(f"{where}: unknown key {section}.{key}")
            setattr(target, key, _convert(section, key, value, types[key], where))


def env_values(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Pick ROOMCHAT_<SECTION>_<KEY> variables; sections are known, keys may hold '_'."""
    out: dict[str, dict[str, str]] = {}
    section_names = [f.name for f in dataclasses.fields(Config)]
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):].lower()
        for section in section_names:
            if rest.startswith(section + "_"):
                out.setdefault(section, {})[rest[len(section) + 1:]] = value
                break
        else:
            raise ConfigError(f"environment: {name} names no known section")
    return out


def load(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Build the effective configuration in precedence order."""
    config = Config()
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        apply(config, data, str(path))
    apply(config, env_values(os.environ if environ is None else environ), "environment")
    if flags:
        apply(config, flags, "command line")
    return config
