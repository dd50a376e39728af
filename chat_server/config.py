"""Typed configuration: defaults < TOML file < environment < command-line flags.

Owns every tunable of the server, with the reason for each default beside it. Sections
map to TOML tables and to environment variables ROOMCHAT_<SECTION>_<KEY>. Also owns
where the file is looked for when none is named, and printing the effective values
back as TOML. Must not
import the hub, sessions or transport: they receive these values, not this module's
loading rules.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError

from chat_server.protocol.message import MAX_LINE_BYTES
from chat_server.protocol.names import NICKLEN, is_valid_nick

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
    # One line about the server, shown by LINKS ("server info").
    description: str = "roomchat server"
    motd_file: str = ""
    # Optional connection password (PASS); empty means none is asked for.
    password: str = ""
    log_level: str = "INFO"
    # "text" for people reading a terminal or journal, "json" (one object a line) for
    # log shippers.
    log_format: str = "text"
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
    # Longest line a plain-mode (netcat) user may type: "! Line too long (max 4096
    # bytes); not sent." (docs/PLAIN-MODE.md). Plain lines carry no tags, so the IRC bound
    # above does not fit them; the hub splits what is sent into 512-byte IRC lines.
    plain_max_line: int = 4096
    # Plain-mode (netcat) members read a room's arrivals and departures as one line per
    # this many seconds ("#lobby * alice, bob and 37 others joined."), not one per
    # person: in a busy room that is the difference between N and N² lines. IRC
    # members still get every JOIN at once. 0 announces each one at once.
    plain_join_coalesce: float = 0.1
    # How many names such a line lists before "and N others" (/who lists everyone).
    plain_join_names: int = 10
    # Most names a plain-mode user's welcome (or the line of a later /join) lists; past
    # it, in a bigger room, the first ones and a count ("… and 1,979 others"; /who lists
    # everyone). The hub then does not build the room's NAMES for that user at all.
    plain_welcome_names: int = 20
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
    # Nicknames one connection may MONITOR (ISUPPORT MONITOR=).
    max_monitor: int = 100
    # Nicknames remembered for WHOWAS.
    whowas_size: int = 1000
    # Seconds clients get to receive the shutdown notice before connections are cut.
    shutdown_grace: float = 2.0


@dataclass(slots=True)
class StoreSection:
    # "sqlite": one file in data_dir, kept across restarts (the default); "memory": kept
    # until the process ends (tests, throwaway servers); "none": no history at all.
    backend: str = "sqlite"
    # Where the database lives; empty means $XDG_DATA_HOME/roomchat, else
    # ~/.local/share/roomchat.
    data_dir: str = ""
    # The writer commits at least this often (seconds) ...
    commit_interval: float = 0.05
    # ... or as soon as this many rows are waiting. A kill -9 loses at most the last
    # interval; a clean stop loses nothing.
    commit_rows: int = 500
    # Entries held in memory while writes fail (disk full, say); past it the oldest are
    # dropped, counted in the log.
    queue_max: int = 100000
    # Seconds between the writer's retention passes ([history] max_age, max_per_target).
    prune_interval: float = 60.0
    # Seconds a write or read waits while another process (a purge, a backup) holds the
    # database's lock, before it counts as failed and is retried.
    busy_timeout: float = 5.0


@dataclass(slots=True)
class HistorySection:
    # Entries older than this many days are pruned by the writer; 0 keeps them forever.
    max_age: float = 0.0
    # Entries kept per room or private conversation; 0 keeps all.
    max_per_target: int = 0
    # Lines a client that cannot ask for history (no draft/chathistory) gets on join;
    # 0 turns replay off.
    replay_on_join: int = 10
    # The most one CHATHISTORY request may return (ISUPPORT CHATHISTORY=).
    chathistory_max: int = 1000
    # Recent entries kept in memory per room, so replay on join needs no query.
    memory_per_target: int = 100
    # Rooms and conversations whose recent entries are kept in memory, the least
    # recently used forgotten first: memory stays bounded however many there are.
    memory_targets: int = 2000


@dataclass(slots=True)
class TlsSection:
    # The TLS listener is on when both cert and key are set: PEM files, the certificate
    # chain (leaf first) and its private key. SIGHUP reads them again.
    cert: str = ""
    key: str = ""
    # Port of the TLS listener on server.host; 6697 by convention (RFC 7194).
    port: int = 6697
    # PEM bundle of the CAs whose client certificates are asked for and shown in WHOIS
    # (RPL_WHOISCERTFP). A self-signed client certificate can be listed here as its own
    # CA. Empty: no client certificate is asked for.
    client_ca: str = ""
    # Advertise IRCv3 STS: plaintext clients are told to reconnect to `port` with TLS.
    sts: bool = True
    # Seconds an STS client keeps to TLS after seeing the policy over TLS; 0 upgrades
    # each connection without the client remembering (the spec's cautious start).
    sts_duration: int = 0


@dataclass(slots=True)
class MetricsSection:
    # host:port of the HTTP endpoint serving /metrics (Prometheus) and /healthz; empty
    # (the default) serves neither. Keep it on a private address: it is not
    # authenticated.
    listen: str = ""
    # Seconds between two event-loop lag samples.
    lag_interval: float = 0.5


@dataclass(slots=True)
class WebSection:
    # host:port of the web listener: the chat page at /, IRC over WebSocket (any path,
    # subprotocols text.ircv3.net and binary.ircv3.net) and POST
    # /api/rooms/ROOM/messages. Empty (the default) turns it off; scripts/serve turns
    # it on at 127.0.0.1:8080. With [tls] cert and key it speaks HTTPS and wss://.
    listen: str = ""
    # Origins (scheme://host[:port], space-separated) whose pages may open a WebSocket;
    # "*" allows any. Empty: only the server's own page (the Origin's host is the Host
    # the browser asked for). Clients that send no Origin (not a browser) are let in.
    origins: str = ""
    # TOML file of posting tokens, each bound to a nick and the rooms it may post to
    # (see examples/web-tokens.toml); empty: the posting API answers 401 to everyone.
    tokens_file: str = ""
    # Largest request body accepted (413 past it).
    max_body_bytes: int = 64 * 1024


@dataclass(slots=True)
class ClusterSection:
    # redis://HOST:PORT/DB of the Redis that carries the network's log; empty (the
    # default): this process is the whole network.
    redis: str = ""
    # Key prefix, so that several networks can share one Redis.
    prefix: str = "roomchat"
    # This node's name in `chat-server cluster status` and the logs; empty: host-pid.
    node: str = ""
    # Seconds without a heartbeat after which a node is declared down (its users quit).
    node_timeout: float = 10.0
    # Seconds between two heartbeats (and checks for silent nodes).
    heartbeat_interval: float = 2.0
    # Log entries read (and applied) at most per read.
    read_batch: int = 1000
    # Entries between two snapshots of the network's state; the log is trimmed behind
    # the newest one, so a late node reads a snapshot and this many entries at most.
    snapshot_every: int = 20000
    # Facts waiting for Redis (while it is unreachable) past which clients are told
    # their lines are not sent.
    queue_max: int = 100000


@dataclass(slots=True)
class AccountsSection:
    # "open": anyone may register an account (REGISTER, NickServ REGISTER); "closed":
    # only accounts that exist already log in.
    registration: str = "open"
    # Whether REGISTER may be used before connection registration is complete (the
    # cap's `before-connect`); false: only once connected.
    register_before_connect: bool = True
    # What happens to someone using a registered nick without logging in: "enforce"
    # renames them to a guest nick after login_grace seconds, "strict" refuses the nick
    # (433), "off" lets them keep it.
    nick_protection: str = "enforce"
    login_grace: float = 30.0
    # The nick given to someone renamed by nick protection: this and a number.
    guest_prefix: str = "Guest"
    # Shortest and longest password accepted, in characters and bytes.
    min_password: int = 8
    max_password: int = 300
    # Failed logins allowed per account and per address within login_window seconds;
    # past them every attempt is refused (904) until a delay passes that starts at
    # login_delay seconds and doubles with each further failure, up to login_delay_max.
    login_attempts: int = 5
    login_window: float = 60.0
    login_delay: float = 2.0
    login_delay_max: float = 300.0
    # PBKDF2 iterations of the SCRAM-SHA-256 credentials made at registration.
    scram_iterations: int = 4096
    # Client certificates one account may list for SASL EXTERNAL (NickServ CERT ADD).
    max_certs: int = 10
    # Rooms one account may register with ChanServ (each is kept in the store).
    max_rooms_per_account: int = 15
    # Longest SASL response accepted (AUTHENTICATE chunks put together), in bytes of
    # base64; a longer one is refused with 905.
    sasl_max_bytes: int = 8192
    # Password hashes made or checked (argon2id, tens of ms of CPU and 64 MiB each) per
    # address per minute, whatever their outcome: past it, REGISTER, IDENTIFY, SASL
    # PLAIN and SET PASSWORD are refused until the minute has passed. A successful
    # login resets nothing here, so a loop of logins cannot keep the threads busy.
    password_work_per_ip: int = 30


@dataclass(frozen=True, slots=True)
class OperBlock:
    """One `[[opers]]` entry: who may become an IRC operator with OPER."""

    # The first word of OPER.
    name: str
    # An argon2id hash of the password (`chat-server hash-password` prints one); the
    # password itself is never written in a file.
    password: str
    # Who may use it: a nick!user@host mask (`*@10.0.0.*` is completed as IRC bans
    # are); "*" lets anyone who knows the password.
    host: str = "*"


# Keys of an [[opers]] entry and whether each must be given.
_OPER_KEYS = {"name": True, "password": True, "host": False}
ARGON2ID_PREFIX = "$argon2id$"


@dataclass(slots=True)
class Config:
    server: ServerSection = field(default_factory=ServerSection)
    limits: LimitsSection = field(default_factory=LimitsSection)
    store: StoreSection = field(default_factory=StoreSection)
    history: HistorySection = field(default_factory=HistorySection)
    tls: TlsSection = field(default_factory=TlsSection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    web: WebSection = field(default_factory=WebSection)
    cluster: ClusterSection = field(default_factory=ClusterSection)
    accounts: AccountsSection = field(default_factory=AccountsSection)
    # [[opers]] blocks: an array of tables, not a section of scalars, so it is read by
    # `_opers` and skipped by everything that walks sections (`sections`).
    opers: tuple[OperBlock, ...] = field(default=(), metadata={"blocks": True})


def sections(config: Config) -> list[dataclasses.Field[Any]]:
    """The fields of `config` that are sections of scalars (every one but [[opers]])."""
    return [f for f in dataclasses.fields(config) if not f.metadata.get("blocks")]


def _opers(value: Any, where: str) -> tuple[OperBlock, ...]:
    """[[opers]] as OperBlocks; a ConfigError naming the entry and key for what is wrong."""
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(f"{where}: opers must be [[opers]] blocks (an array of tables)")
    out: list[OperBlock] = []
    seen: set[str] = set()
    for i, block in enumerate(value):
        at = f"{where}: opers[{i}]"
        for key in block:
            if key not in _OPER_KEYS:
                raise ConfigError(f"{at}: unknown key opers.{key}")
        for key, required in _OPER_KEYS.items():
            if required and key not in block:
                raise ConfigError(f"{at}: opers.{key} is missing")
            if key in block and not isinstance(block[key], str):
                raise ConfigError(f"{at}: opers.{key} must be str, got {block[key]!r}")
        name, password = block["name"], block["password"]
        if not name or any(ch.isspace() or ch < " " for ch in name):
            raise ConfigError(f"{at}: opers.name = {name!r} must be one word")
        if name in seen:
            raise ConfigError(f"{at}: opers.name = {name!r} is given twice")
        seen.add(name)
        if not _is_argon2id(password):
            raise ConfigError(f"{at}: opers.password must be an argon2id hash "
                              "(chat-server hash-password prints one)")
        host = block.get("host", "*")
        if not host or any(ch.isspace() for ch in host):
            raise ConfigError(f"{at}: opers.host = {host!r} must be a mask such as *@10.0.0.*")
        out.append(OperBlock(name, password, host))
    return tuple(out)


def _is_argon2id(text: str) -> bool:
    """A well-formed argon2id hash (PHC string), checked without hashing anything."""
    if not text.startswith(ARGON2ID_PREFIX):
        return False
    try:
        extract_parameters(text)
    except (InvalidHashError, ValueError):
        return False
    return True


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
    ("limits", "max_monitor"): (0, 10000),
    ("limits", "whowas_size"): (0, 1 << 20),
    ("limits", "shutdown_grace"): (0, 600),
    ("store", "commit_interval"): (0.001, 10),
    ("store", "commit_rows"): (1, 1 << 20),
    ("store", "queue_max"): (1, 1 << 30),
    ("store", "prune_interval"): (0.01, 86400),
    ("store", "busy_timeout"): (0, 600),
    ("history", "max_age"): (0, 1 << 20),
    ("history", "max_per_target"): (0, 1 << 40),
    ("history", "replay_on_join"): (0, 1000),
    ("history", "chathistory_max"): (1, 100000),
    ("history", "memory_per_target"): (0, 100000),
    ("history", "memory_targets"): (0, 1 << 24),
    ("tls", "port"): (0, 65535),
    ("tls", "sts_duration"): (0, 1 << 31),
    ("metrics", "lag_interval"): (0.01, 60),
    ("web", "max_body_bytes"): (1024, 1 << 30),
    ("cluster", "node_timeout"): (0.5, 3600),
    ("cluster", "heartbeat_interval"): (0.05, 600),
    ("cluster", "read_batch"): (1, 1 << 20),
    ("cluster", "snapshot_every"): (100, 1 << 30),
    ("cluster", "queue_max"): (1, 1 << 30),
    ("accounts", "login_grace"): (0.05, 86400),
    ("accounts", "min_password"): (1, 1000),
    ("accounts", "max_password"): (8, 4096),
    ("accounts", "login_attempts"): (1, 1000),
    ("accounts", "login_window"): (0.05, 86400),
    ("accounts", "login_delay"): (0.01, 86400),
    ("accounts", "login_delay_max"): (0.01, 86400),
    ("accounts", "scram_iterations"): (4096, 1 << 24),
    ("accounts", "max_certs"): (1, 100),
    ("accounts", "max_rooms_per_account"): (1, 100000),
    ("accounts", "sasl_max_bytes"): (400, 1 << 20),
    ("accounts", "password_work_per_ip"): (1, 1 << 20),
}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Values written into IRC lines as they are: a space or a ':' would change the line.
_WORDS = {("server", "name"), ("server", "network"), ("accounts", "guest_prefix")}
_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("server", "log_level"): _LOG_LEVELS,
    ("server", "log_format"): ("text", "json"),
    ("store", "backend"): ("sqlite", "memory", "none"),
    ("accounts", "registration"): ("open", "closed"),
    ("accounts", "nick_protection"): ("enforce", "strict", "off"),
}


def _typed_exactly(value: Any, expected: type) -> bool:
    """TOML values carry their type: `port = "6667"` is a mistake, not a string to parse."""
    if isinstance(value, bool) or expected is bool:
        return isinstance(value, bool) and expected is bool
    if expected is float:
        return isinstance(value, (int, float))
    return isinstance(value, expected)


def _convert(
    section: str, key: str, value: Any, expected: type, where: str, strict: bool = False
) -> Any:
    """Coerce one value to the field's type; `strict` (a TOML file) demands the type itself.

    Strings from the environment and flags are parsed.
    """
    name = f"{section}.{key}"
    try:
        if strict and not _typed_exactly(value, expected):
            raise ValueError
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
    except (ValueError, TypeError):
        raise ConfigError(
            f"{where}: {name} must be {expected.__name__}, got {value!r}"
        ) from None
    bounds = _RANGES.get((section, key))
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ConfigError(
            f"{where}: {name} = {value!r} is out of range ({bounds[0]!r} to {bounds[1]!r})"
        )
    choices = _CHOICES.get((section, key))
    if choices is not None:
        chosen = [choice for choice in choices if choice.lower() == value.lower()]
        if not chosen:
            raise ConfigError(f"{where}: {name} must be one of {', '.join(choices)}")
        value = chosen[0]
    if (section, key) in _WORDS and (
        not value or any(ch.isspace() or ch < " " or ch in ",:!@" for ch in value)
    ):
        raise ConfigError(f"{where}: {name} = {value!r} must be one word (it is sent as a source)")
    if (section, key) == ("accounts", "guest_prefix") and not is_valid_nick(value + "99999"):
        # Nick protection renames people to this and five digits: it must make a nick
        # that fits, or every rename would be the same refused nick (or none at all).
        raise ConfigError(f"{where}: {name} = {value!r} must start a nickname with room "
                          f"for five digits ({NICKLEN - 5} characters at most)")
    if (section, key) in (("metrics", "listen"), ("web", "listen")) and value:
        try:
            split_address(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: {name} = {value!r} {exc}") from None
    return value


def split_address(text: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` as (host, port); ValueError saying what is wrong."""
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:9667")
    return host, int(port)


def _field_types(section_obj: Any) -> dict[str, type]:
    defaults = {f.name: getattr(section_obj, f.name) for f in dataclasses.fields(section_obj)}
    return {k: type(v) for k, v in defaults.items()}


def apply(
    config: Config,
    values: Mapping[str, Mapping[str, Any]],
    where: str,
    *,
    strict: bool = False,
) -> None:
    """Set values given as {section: {key: value}}, rejecting unknown keys by name.

    `strict` is for TOML files, whose values must already have the field's type.
    """
    by_name = {f.name: getattr(config, f.name) for f in sections(config)}
    for section, table in values.items():
        if section == "opers" and strict:
            config.opers = _opers(table, where)
            continue
        target = by_name.get(section)
        if not isinstance(table, Mapping):
            tables = " or ".join(f"[{name}]" for name in by_name)
            raise ConfigError(f"{where}: unknown key {section} (keys belong in {tables})")
        if target is None:
            raise ConfigError(f"{where}: unknown section [{section}]")
        types = _field_types(target)
        for key, value in table.items():
            if key not in types:
                raise ConfigError(f"{where}: unknown key {section}.{key}")
            setattr(target, key, _convert(section, key, value, types[key], where, strict))


def env_values(
    environ: Mapping[str, str], warnings: list[str] | None = None
) -> dict[str, dict[str, str]]:
    """Pick ROOMCHAT_<SECTION>_<KEY> variables; sections are known, keys may hold '_'.

    A variable that names no setting is left out with a warning in `warnings` (naming
    the nearest known variable) rather than refused: an environment is shared with
    other programs and versions, a configuration file is not.
    """
    out: dict[str, dict[str, str]] = {}
    defaults = Config()
    known = {
        f"{ENV_PREFIX}{section.name.upper()}_{f.name.upper()}": (section.name, f.name)
        for section in sections(defaults)
        for f in dataclasses.fields(getattr(defaults, section.name))
    }
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        found = known.get(name.upper())
        if found is not None:
            out.setdefault(found[0], {})[found[1]] = value
            continue
        if warnings is not None:
            nearest = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.8)
            hint = f" (did you mean {nearest[0]}?)" if nearest else ""
            warnings.append(f"environment: {name} is not a setting{hint}; ignored")
    return out


def load(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
    warnings: list[str] | None = None,
) -> Config:
    """Build the effective configuration in precedence order.

    What is worth saying but not refusing (unknown environment variables) is appended
    to `warnings`, for the caller to log once logging is set up.
    """
    config = Config()
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        apply(config, data, str(path), strict=True)
    env = env_values(os.environ if environ is None else environ, warnings)
    for section, table in env.items():
        for key, value in table.items():
            variable = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
            apply(config, {section: {key: value}}, f"environment {variable}")
    if flags:
        apply(config, flags, "command line")
    return config


def search_paths(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Where a configuration file is looked for when none is named, first match wins.

    The user's comes before the system's so that a user can run a private server.
    """
    env = os.environ if environ is None else environ
    config_home = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return [
        Path(config_home, "roomchat", "roomchat.toml"),
        Path("/etc/roomchat/roomchat.toml"),
    ]


def find_file(environ: Mapping[str, str] | None = None) -> Path | None:
    """The first file in `search_paths` that exists, or None (defaults only)."""
    return next((path for path in search_paths(environ) if path.is_file()), None)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    # A JSON string is a valid TOML basic string: the same quotes and escapes.
    return json.dumps(value, ensure_ascii=False)


def to_toml(config: Config, hidden: frozenset[str] = frozenset({"server.password"})) -> str:
    """The configuration as a TOML document that `load` reads back to the same values.

    Keys in `hidden` that are set print as a comment, so secrets stay off terminals.
    """
    lines: list[str] = []
    for section_field in sections(config):
        section = getattr(config, section_field.name)
        if lines:
            lines.append("")
        lines.append(f"[{section_field.name}]")
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if f"{section_field.name}.{f.name}" in hidden and value:
                lines.append(f"# {f.name} is set (not shown)")
            else:
                lines.append(f"{f.name} = {_toml_value(value)}")
    for oper in config.opers:
        lines += ["", "[[opers]]"]
        lines += [f"{f.name} = {_toml_value(getattr(oper, f.name))}"
                  for f in dataclasses.fields(oper)]
    return "\n".join(lines) + "\n"
