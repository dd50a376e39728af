"""Configuration: the TOML file in the XDG config directory, overridden by flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_client.config import Config, ConfigError, config_path, load, split_host


def write_config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "roomchat" / "client.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return {"XDG_CONFIG_HOME": str(tmp_path), "HOME": "/nonexistent"}


def test_path_follows_xdg_and_falls_back_to_home() -> None:
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/roomchat/client.toml")
    assert config_path({"HOME": "/home/u"}) == Path("/home/u/.config/roomchat/client.toml")


def test_no_file_gives_defaults() -> None:
    config = load([], {"XDG_CONFIG_HOME": "/nonexistent"})
    assert config.port == 6667 and config.rooms == ()


def test_file_then_flags(tmp_path: Path) -> None:
    env = write_config(tmp_path, 'server = "chat.example:7000"\nnick = "filenick"\n'
                                 'rooms = ["lobby", "#dev"]\nscrollback = 500\nbell = false\n')
    config = load([], env)
    assert (config.host, config.port, config.nick) == ("chat.example", 7000, "filenick")
    assert config.rooms == ("#lobby", "#dev")
    assert (config.scrollback, config.bell) == (500, False)
    config = load(["other:8000", "--nick", "flagnick", "--room", "x", "--simple"], env)
    assert (config.host, config.port, config.nick, config.rooms, config.simple) == (
        "other", 8000, "flagnick", ("#x",), True)


def test_tls_flag_picks_the_tls_port(tmp_path: Path) -> None:
    config = load(["host", "--tls"], {"XDG_CONFIG_HOME": str(tmp_path)})
    assert (config.tls, config.port) == (True, 6697)


@pytest.mark.parametrize("text", ['nick = 3', 'colour = "red"', 'scrollback = 0',
                                  'rooms = [1]', 'bell = "yes"', 'nick = '])
def test_bad_files_are_reported(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError):
        load([], write_config(tmp_path, text))


def test_host_forms() -> None:
    assert split_host("h") == ("h", None)
    assert split_host("h:1") == ("h", 1)
    assert split_host("[::1]:7") == ("::1", 7)
    assert split_host("::1") == ("::1", None)
    with pytest.raises(ConfigError):
        split_host("h:99999")


def test_defaults_are_sane() -> None:
    assert Config().scrollback > 0 and Config().reconnect_min < Config().reconnect_max
