"""Look-alike names fold to the same key; different-looking ones do not."""

from __future__ import annotations

import unicodedata

import pytest

from chat_server.protocol.confusables import SKELETON_MAP, skeleton
from chat_server.protocol.names import fold


@pytest.mark.parametrize(("lookalike", "plain"), [
    ("\u0435van", "evan"),            # Cyrillic ie
    ("#l\u043ebby", "#lobby"),         # Cyrillic o
    ("\u03b1lice", "alice"),           # Greek alpha
    ("\u0410LICE", "alice"),           # Cyrillic capital A, folded first
    ("p\u0430yp\u0430l", "paypal"),
])
def test_a_lookalike_folds_to_the_name_it_imitates(lookalike: str, plain: str) -> None:
    assert lookalike != plain
    assert fold(lookalike) == fold(plain)


@pytest.mark.parametrize(("one", "other"), [
    ("bob1", "bobl"),     # ASCII keeps itself
    ("b0b", "bob"),
    ("caf\u00e9", "cafe"),  # an accent is a different letter, not a look-alike
    ("\u0447\u0430\u0442", "chat"),  # Cyrillic words stay Cyrillic apart from look-alikes
])
def test_names_that_look_different_stay_different(one: str, other: str) -> None:
    assert fold(one) != fold(other)


def test_every_prototype_is_ascii_and_every_source_is_not() -> None:
    assert SKELETON_MAP
    for source, proto in SKELETON_MAP.items():
        assert not chr(source).isascii(), chr(source)
        assert isinstance(proto, str) and proto.isascii() and proto.isalnum()
        assert proto == proto.lower()
    assert skeleton("evan") == "evan"
    assert unicodedata.name("\u0435") == "CYRILLIC SMALL LETTER IE"
