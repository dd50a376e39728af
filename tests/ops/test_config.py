"""Configuration through the real command: precedence, where the file is found, and one
clear error (naming the key and where it came from, exit status 2) for each bad value."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from support.service import Service, run_cli

from chat_server.config import (
    Config,
    ConfigError,
    OperBlock,
    load,
    search_paths,
    sections,
    to_toml,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "roomchat.toml"


def effective(*args: str, env: dict[str, str]) -> dict[str, dict[str, object]]:
    result = run_cli("--print-config", *args, env=env)
    assert result.returncode == 0, result.stderr
    return tomllib.loads(result.stdout)


def test_flags_beat_environment_beat_the_file_beat_defaults(
    tmp_path: Path, env: dict[str, str]
) -> None:
    config = tmp_path / "roomchat.toml"
    config.write_text(
        '[server]\nport = 7001\nname = "from.file"\n'
        "[limits]\nflood_rate = 2.0\nmax_targets = 3\n"
    )
    env |= {"ROOMCHAT_SERVER_PORT": "7002", "ROOMCHAT_LIMITS_FLOOD_RATE": "1.5"}
    values = effective("--config", str(config), "--port", "7003", env=env)
    assert values["server"]["port"] == 7003
    assert values["limits"]["flood_rate"] == 1.5
    assert values["limits"]["max_targets"] == 3
    assert values["server"]["name"] == "from.file"
    assert values["limits"]["whowas_size"] == Config().limits.whowas_size


def test_the_user_file_is_found_without_config(tmp_path: Path, env: dict[str, str]) -> None:
    found = Path(env["XDG_CONFIG_HOME"], "roomchat", "roomchat.toml")
    found.parent.mkdir(parents=True, exist_ok=True)
    found.write_text("[limits]\nmax_bans = 7\n")
    result = run_cli("--print-config", env=env)
    assert result.returncode == 0, result.stderr
    assert f"< {found} <" in result.stdout.splitlines()[0]
    assert tomllib.loads(result.stdout)["limits"]["max_bans"] == 7
    checked = run_cli("--check-config", env=env)
    assert (checked.returncode, checked.stdout) == (0, f"chat-server: configuration OK ({found})\n")


def test_search_order_is_the_user_file_then_the_system_file() -> None:
    assert search_paths({"XDG_CONFIG_HOME": "/home/u/.cfg"}) == [
        Path("/home/u/.cfg/roomchat/roomchat.toml"), Path("/etc/roomchat/roomchat.toml"),
    ]
    assert search_paths({"HOME": "/home/u"})[0].parent.parent.name == ".config"


@pytest.mark.parametrize(("text", "error"), [
    ('[limits]\nping_interval = "soon"\n', "limits.ping_interval must be float, got 'soon'"),
    ("[limits]\nping_intervall = 9\n", "unknown key limits.ping_intervall"),
    ("[limits]\nflood_burst = 0\n", "limits.flood_burst = 0 is out of range (1 to 1048576)"),
    ('[server]\nport = "6667"\n', "server.port must be int, got '6667'"),
    ("[server]\nport = 70000\n", "server.port = 70000 is out of range (0 to 65535)"),
    ("[server]\nport = 6667.5\n", "server.port must be int, got 6667.5"),
    ('[server]\nlog_format = "xml"\n', "server.log_format must be one of text, json"),
    ('[server]\nname = "my server"\n',
     "server.name = 'my server' must be one word (it is sent as a source)"),
    ("[sever]\nport = 1\n", "unknown section [sever]"),
    ("port = 6667\n",
     "unknown key port (keys belong in [server] or [limits] or [store] or [history] or [tls]"
     " or [metrics] or [web] or [cluster] or [accounts])"),
    ('[metrics]\nlisten = "9667"\n',
     "metrics.listen = '9667' must be HOST:PORT, e.g. 127.0.0.1:9667"),
    ("[tls]\nsts_duration = -1\n", "tls.sts_duration = -1 is out of range (0 to 2147483648)"),
    # Nick protection renames to it and five digits: a longer one hung the server in
    # a loop looking for a free guest nick.
    (f'[accounts]\nguest_prefix = "{"G" * 26}"\n',
     f"accounts.guest_prefix = '{'G' * 26}' must start a nickname with room for five "
     "digits (25 characters at most)"),
    ('[accounts]\nguest_prefix = "1up"\n',
     "accounts.guest_prefix = '1up' must start a nickname"),
    ("[server\n", "not valid TOML: Expected ']' at the end of a table declaration"),
])
def test_a_bad_file_is_one_error_naming_key_and_file(
    tmp_path: Path, env: dict[str, str], text: str, error: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = run_cli("--config", str(config), "--check-config", env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"chat-server: {config}: {error}")
    assert result.stderr.count("\n") == 1


def test_bad_environment_and_flag_values_name_where_they_came_from(
    env: dict[str, str],
) -> None:
    result = run_cli("--check-config", env=env | {"ROOMCHAT_LIMITS_PING_TIMEOUT": "never"})
    assert result.returncode == 2
    assert result.stderr == ("chat-server: environment ROOMCHAT_LIMITS_PING_TIMEOUT: "
                             "limits.ping_timeout must be float, got 'never'\n")
    # An unknown variable is a warning naming the nearest setting, not a refusal: the
    # environment is shared with other programs and versions.
    result = run_cli("--check-config", env=env | {"ROOMCHAT_LIMITS_FLOOD_RAT": "1",
                                                  "ROOMCHAT_NOPE": "1"})
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "chat-server: warning: environment: ROOMCHAT_LIMITS_FLOOD_RAT is not a setting"
        " (did you mean ROOMCHAT_LIMITS_FLOOD_RATE?); ignored",
        "chat-server: warning: environment: ROOMCHAT_NOPE is not a setting; ignored",
    ]
    result = run_cli("--check-config", "--port", "70000", env=env)
    assert result.returncode == 2
    assert result.stderr == (
        "chat-server: command line: server.port = 70000 is out of range (0 to 65535)\n"
    )


def test_a_missing_file_or_motd_is_an_error(tmp_path: Path, env: dict[str, str]) -> None:
    result = run_cli("--config", str(tmp_path / "none.toml"), "--check-config", env=env)
    assert result.returncode == 2
    assert result.stderr == (
        f"chat-server: {tmp_path}/none.toml: cannot read: No such file or directory\n"
    )
    result = run_cli("--motd", str(tmp_path / "motd.txt"), "--check-config", env=env)
    assert result.returncode == 2
    assert result.stderr == (
        f"chat-server: cannot read MOTD file {tmp_path}/motd.txt: No such file or directory\n"
    )


def test_printed_configuration_reads_back_the_same_with_the_password_hidden(
    tmp_path: Path,
) -> None:
    config = load(None, environ={"ROOMCHAT_SERVER_MOTD_FILE": 'quote " and \\ and é',
                                 "ROOMCHAT_LIMITS_FLOOD_RATE": "0.25"})
    printed = tmp_path / "printed.toml"
    printed.write_text(to_toml(config))
    assert load(printed, environ={}) == config

    config.server.password = "hunter2"
    text = to_toml(config)
    assert "hunter2" not in text
    assert "# password is set (not shown)" in text


def test_environment_strings_are_parsed_but_file_values_must_have_the_type(
    tmp_path: Path,
) -> None:
    assert load(None, environ={"ROOMCHAT_SERVER_PORT": "7000"}).server.port == 7000
    assert load(None, environ={"ROOMCHAT_SERVER_LOG_FORMAT": "JSON"}).server.log_format == "json"
    config = tmp_path / "roomchat.toml"
    config.write_text("[limits]\nflood_rate = 3\n")
    assert load(config, environ={}).limits.flood_rate == 3.0
    config.write_text("[limits]\nflood_burst = true\n")
    with pytest.raises(ConfigError, match=r"limits.flood_burst must be int, got True"):
        load(config, environ={})


def test_the_example_file_loads_documents_every_key_and_shows_the_defaults() -> None:
    assert load(EXAMPLE, environ={}) == Config()
    tables = tomllib.loads(EXAMPLE.read_text())
    lines = EXAMPLE.read_text().splitlines()
    defaults = Config()
    for section in sections(defaults):
        keys = [f.name for f in dataclasses.fields(getattr(defaults, section.name))]
        assert list(tables[section.name]) == keys
        for key in keys:
            at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
            above = lines[at - 1]
            while not above.startswith("#"):
                assert above and not above.startswith("["), f"{key} has no comment"
                at -= 1
                above = lines[at - 1]


async def test_a_server_with_an_unknown_variable_starts_and_logs_it(
    start_service: Callable[..., Awaitable[Service]], env: dict[str, str]
) -> None:
    service = await start_service(environ=env | {"ROOMCHAT_SERVER_PROT": "7000"})
    assert any(
        "WARNING" in line and "ROOMCHAT_SERVER_PROT is not a setting"
        " (did you mean ROOMCHAT_SERVER_PORT?); ignored" in line
        for line in service.log
    ), service.log
    assert service.port != 7000


HASH = ("$argon2id$v=19$m=65536,t=3,p=4$kXVt0V7kEguOmga1fK9BVA$"
        "u1CVFtsse8jAgKwecuNExCjQCdxdQXgZ1UxDhHODfkc")


def test_opers_blocks_load_print_back_and_are_documented(tmp_path: Path) -> None:
    config = tmp_path / "roomchat.toml"
    config.write_text(f'[[opers]]\nname = "alice"\npassword = "{HASH}"\n\n'
                      f'[[opers]]\nname = "bob"\npassword = "{HASH}"\nhost = "*@10.0.0.*"\n')
    loaded = load(config, environ={})
    assert loaded.opers == (OperBlock("alice", HASH, "*"), OperBlock("bob", HASH, "*@10.0.0.*"))
    again = tmp_path / "again.toml"
    again.write_text(to_toml(loaded))
    assert load(again, environ={}) == loaded
    example = EXAMPLE.read_text()
    for f in dataclasses.fields(OperBlock):
        assert f"\n# {f.name} = " in example, f"opers.{f.name} is not in the example"


@pytest.mark.parametrize(("body", "error"), [
    ('name = "alice"\n', r"opers\[0\]: opers.password is missing"),
    (f'name = "alice"\npassword = "{HASH}"\nhots = "*"\n', r"unknown key opers.hots"),
    ('name = "alice"\npassword = "operpassword"\n', r"opers.password must be an argon2id"),
    (f'name = "a b"\npassword = "{HASH}"\n', r"opers.name = 'a b' must be one word"),
    (f'name = 7\npassword = "{HASH}"\n', r"opers.name must be str, got 7"),
])
def test_a_bad_opers_block_is_refused_naming_the_key(
    tmp_path: Path, body: str, error: str
) -> None:
    config = tmp_path / "roomchat.toml"
    config.write_text("[[opers]]\n" + body)
    with pytest.raises(ConfigError, match=error):
        load(config, environ={})


def test_the_same_operator_name_twice_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "roomchat.toml"
    block = f'[[opers]]\nname = "alice"\npassword = "{HASH}"\n'
    config.write_text(block + block)
    with pytest.raises(ConfigError, match=r"opers\[1\]: opers.name = 'alice' is given twice"):
        load(config, environ={})
