"""Free-text helpers of the protocol package."""

from __future__ import annotations

import pytest

from chat_server.protocol.text import number


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("10", 10), ("007", 7), ("", None), ("-1", None), ("1.5", None),
    ("²", None), ("١٠", None), ("１０", None), ("10 ", None),
])
def test_only_ascii_digits_are_a_count(text: str, value: int | None) -> None:
    assert number(text) == value
