"""Settings: a TOML file in the user's config directory, overridden by command-line flags.

Owns the Config value, where the file lives (XDG_CONFIG_HOME/roomchat/client.toml),
and the command line. Must not import the protocol, the state, asyncio or prompt_toolkit.
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from chat_server.protocol.names import is_valid_nick

DEFAULT_PORT = 6667
DEFAULT_TLS_PORT = 6697


class ConfigError(ValueError):
    """The config file or the command line says something we cannot use."""


def _default_nick() -> str:
    user = re.sub(r"[^A-Za-z0-9_\-\[\]{}|^`]", "", os.environ.get("USER", ""))
    return user if is_valid_nick(user) else "guest"


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    nick: str = field(default_factory=_default_nick)
    rooms: tuple[str, ...] = ()
    # The server's password (PASS); with sasl, the account's password instead.
    password: str | None = None
    account: str | None = None  # SASL account name; the nick when not set
    # Log in with SASL during registration: SCRAM-SHA-256 when the server offers it,
    # else PLAIN, which sends the password as it is and so is used only over TLS
    # unless sasl_plain_without_tls is true.
    sasl: bool = False
    sasl_plain_without_tls: bool = False
    tls: bool = False
    tls_verify: bool = True  # False only by --tls-insecure: no certificate check at all
    tls_ca: str = ""  # PEM file of the CAs to trust instead of the system's
    simple: bool = False
    username: str = "roomchat"
    realname: str = "roomchat client"
    quit_message: str = "Leaving"
    scrollback: int = 2000  # lines kept per buffer; older lines are dropped
    bell: bool = True  # ring the terminal bell on a mention or private message
    hide_joins: tuple[str, ...] = ()  # rooms whose join/part/quit lines start hidden
    show_members: bool = True
    timestamp_format: str = "%H:%M"
    reconnect_min: float = 1.0  # first reconnect delay, seconds
    reconnect_max: float = 60.0  # reconnect delays double up to this cap
    ping_interval: float = 30.0  # seconds between lag-measuring PINGs
    history_page: int = 50  # lines per history request (the server may allow fewer)


def config_path(env: Mapping[str, str]) -> Path:
    """The config file: $XDG_CONFIG_HOME/roomchat/client.toml, ~/.config by default."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "roomchat" / "client.toml"


def split_host(spec: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 address."""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        return host, _port(rest[1:]) if rest.startswith(":") else None
    if spec.count(":") == 1:
        host, _, port = spec.partition(":")
        return host, _port(port)
    return spec, None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"bad port: {text!r}")
    return int(text)


def from_mapping(data: Mapping[str, Any], base: Config | None = None) -> Config:
    """Apply a TOML table to a Config, checking every key and type."""
    config = base or Config()
    known = {f.name: f for f in fields(Config)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"unknown setting: {key}")
        current = getattr(config, name)
        if isinstance(current, tuple):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{key} must be a list of strings")
            value = tuple(value)
        elif isinstance(current, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{key} must be true or false")
        elif isinstance(current, float):
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{key} must be a positive number")
            value = float(value)
        elif isinstance(current, int):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{key} must be a positive integer")
        elif not isinstance(value, str):
            raise ConfigError(f"{key} must be a string")
        changes[name] = value
    return replace(config, **changes)


def load_file(path: Path) -> Config:
    if not path.exists():
        return Config()
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if "server" in data and isinstance(data["server"], str):
        host, port = split_host(data.pop("server"))
        data["host"] = host
        if port is not None:
            data["port"] = port
    return from_mapping(data)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chat-client",
        description="A terminal chat client for roomchat and other IRC servers.",
        epilog="Defaults come from $XDG_CONFIG_HOME/roomchat/client.toml; flags override it.",
    )
    p.add_argument("server", nargs="?", metavar="HOST[:PORT]", help="server to connect to")
    p.add_argument("--nick", help="your nickname")
    p.add_argument("--room", action="append", metavar="R", help="room to join (repeatable)")
    p.add_argument("--password",
                   help="the server's password (PASS); with --sasl, your account's "
                        "(asked for at start when --sasl is given without one)")
    p.add_argument("--sasl", action="store_true", default=None,
                   help="log in to your account while connecting (SCRAM-SHA-256, or "
                        "PLAIN over TLS)")
    p.add_argument("--account", metavar="NAME",
                   help="the account to log in to with --sasl (default: your nickname)")
    p.add_argument("--sasl-plain-without-tls", action="store_true", default=None,
                   help="let --sasl use PLAIN without TLS, where anyone in between "
                        "can read the password")
    p.add_argument("--tls", action="store_true", default=None,
                   help="connect with TLS, checking the certificate against the system's CAs")
    p.add_argument("--tls-ca", metavar="FILE",
                   help="trust the CAs in FILE (PEM) instead of the system's; implies --tls")
    p.add_argument("--tls-insecure", action="store_true", default=None,
                   help="connect with TLS without checking the certificate at all "
                        "(anyone in between can read and change everything)")
    p.add_argument("--simple", action="store_true", default=None,
                   help="scrolling transcript with a prompt (narrow terminals, screen readers)")
    p.add_argument("--config", type=Path, help="config file to read instead of the default")
    return p


def load(argv: Sequence[str], env: Mapping[str, str]) -> Config:
    """Read the config file, then apply the flags on top of it."""
    args = parser().parse_args(list(argv))
    config = load_file(args.config or config_path(env))
    changes: dict[str, Any] = {}
    port_given = False
    if args.server:
        host, port = split_host(args.server)
        changes["host"] = host
        if port is not None:
            changes["port"] = port
            port_given = True
    for name in ("nick", "password", "account", "sasl", "sasl_plain_without_tls", "tls",
                 "simple"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.tls_ca is not None:
        if not Path(args.tls_ca).is_file():
            raise ConfigError(f"--tls-ca {args.tls_ca}: no such file")
        changes["tls_ca"] = args.tls_ca
        changes["tls"] = True
    if args.tls_insecure:
        changes["tls_verify"] = False
        changes["tls"] = True
    if args.room:
        changes["rooms"] = tuple(args.room)
    if changes.get("tls") and not port_given and config.port == DEFAULT_PORT:
        changes["port"] = DEFAULT_TLS_PORT
    config = replace(config, **changes)
    rooms = tuple(r if r.startswith(("#", "&")) else f"#{r}" for r in config.rooms)
    return replace(config, rooms=rooms)
