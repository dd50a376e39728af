"""The test suite's own promise: a developer's environment and files change no result.

A poisoned session (ROOMCHAT_* variables, a ~/.config/roomchat/roomchat.toml, an
XDG_CONFIG_HOME of their own) must not reach a server a test starts, and a server
started without --config must read the private empty file, never /etc/roomchat.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from support.hermetic import SOURCE_ROOT, hermetic_env
from support.service import run_cli

from chat_server.config import Config


def test_a_developers_variables_and_files_do_not_reach_a_test_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    developer = tmp_path / "developer"
    for config_home in (developer / ".config", developer / "xdg"):
        (config_home / "roomchat").mkdir(parents=True)
        (config_home / "roomchat" / "roomchat.toml").write_text('[server]\nname = "poisoned"\n')
    monkeypatch.setenv("HOME", str(developer))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(developer / "xdg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(developer / "data"))
    monkeypatch.setenv("ROOMCHAT_LIMITS_MAX_BANS", "3")
    monkeypatch.setenv("NOTIFY_SOCKET", "@poisoned")

    env = hermetic_env(tmp_path / "test")
    assert not any(key.startswith("ROOMCHAT_") for key in env) and "NOTIFY_SOCKET" not in env
    private = tmp_path / "test" / "hermetic"
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
                "XDG_RUNTIME_DIR"):
        assert Path(env[key]).is_relative_to(private), key

    result = run_cli("--print-config", env=env)
    assert result.returncode == 0, result.stderr
    # The private empty file is found first, so /etc/roomchat/roomchat.toml is not read.
    assert f"< {private}/config/roomchat/roomchat.toml <" in result.stdout.splitlines()[0]
    effective = tomllib.loads(result.stdout)
    assert effective["server"]["name"] == Config().server.name
    assert effective["limits"]["max_bans"] == Config().limits.max_bans
    assert not (developer / "data").exists()


def test_a_subprocess_runs_the_code_of_this_tree(tmp_path: Path) -> None:
    # Started elsewhere (a server's cwd is its temporary directory), it must still test
    # this checkout's chat_server, not the one an editable install names.
    env = hermetic_env(tmp_path)
    found = subprocess.run(
        [sys.executable, "-c", "import chat_server; print(chat_server.__file__)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=True)
    assert Path(found.stdout.strip()).is_relative_to(SOURCE_ROOT)
    assert Path(__file__).resolve().parents[2] == SOURCE_ROOT
