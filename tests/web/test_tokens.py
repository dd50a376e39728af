"""The posting tokens file: what it accepts, and one clear error for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_server.config import ConfigError
from chat_server.tokens import load_tokens

GOOD = '[[token]]\ntoken = "0123456789abcdef"\nnick = "bot"\nrooms = ["#Ops"]\n'


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "tokens.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_token_posts_as_its_nick_to_its_rooms_only(tmp_path: Path) -> None:
    tokens = load_tokens(write(tmp_path, GOOD + GOOD.replace("0123", "9999")
                               .replace('["#Ops"]', '["*"]').replace("bot", "any")))
    token = tokens.find("0123456789abcdef")
    assert token is not None and token.nick == "bot"
    assert token.may_post("#ops") and token.may_post("#OPS") and not token.may_post("#dev")
    anywhere = tokens.find("9999456789abcdef")
    assert anywhere is not None and anywhere.may_post("#anything")
    assert tokens.find("0123456789abcde") is None and tokens.find("") is None
    assert len(load_tokens("")) == 0


@pytest.mark.parametrize(("text", "says"), [
    (GOOD.replace("0123456789abcdef", "short"), "at least 16 characters"),
    (GOOD.replace('"bot"', '"bad nick"'), "is not a valid nickname"),
    (GOOD.replace('["#Ops"]', '"#ops"'), "rooms must be a list"),
    (GOOD.replace('["#Ops"]', '["ops"]'), "'ops' is not a room name"),
    (GOOD + GOOD, "the same token is listed twice"),
    (GOOD + 'extra = 1\n', "only token, nick and rooms"),
    ('[token]\nnick = "x"\n', "[[token]] tables"),
    ("tokens = 1\n", "unknown key tokens"),
    ("[[token]\n", "not valid TOML"),
])
def test_a_bad_file_is_one_error_naming_the_file(tmp_path: Path, text: str, says: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_tokens(path)
    assert says in str(error.value) and str(error.value).startswith(path)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_tokens(str(tmp_path / "nowhere.toml"))
