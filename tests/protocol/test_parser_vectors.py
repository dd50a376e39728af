"""The ircdocs parser test vectors (CC0), run against parse_line and format_message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chat_server.protocol.message import Message, format_message, parse_line

VECTORS = Path(__file__).parent / "vectors"


def _load(name: str) -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = json.loads((VECTORS / name).read_text("utf-8"))["tests"]
    return tests


SPLIT = _load("msg-split.json")
JOIN = _load("msg-join.json")


def test_vectors_are_all_loaded() -> None:
    # Guards against a truncated or mangled conversion silently running fewer cases.
    assert len(SPLIT) == 35
    assert len(JOIN) == 18


@pytest.mark.parametrize("vector", SPLIT, ids=[v["input"] for v in SPLIT])
def test_msg_split(vector: dict[str, Any]) -> None:
    atoms = vector["atoms"]
    msg = parse_line(vector["input"])
    assert msg.tags == atoms.get("tags", {})
    assert msg.source == atoms.get("source")
    # Commands are case-insensitive; parse_line hands the hub the upper-case form.
    assert msg.command == atoms["verb"].upper()
    assert list(msg.params) == atoms.get("params", [])


@pytest.mark.parametrize("vector", SPLIT, ids=[v["input"] for v in SPLIT])
def test_msg_split_accepts_bytes_with_crlf(vector: dict[str, Any]) -> None:
    # Lines reach the parser as bytes from the framer; the result must not depend on that.
    raw = vector["input"].encode("utf-8") + b"\r\n"
    assert parse_line(raw) == parse_line(vector["input"])


@pytest.mark.parametrize("vector", JOIN, ids=[v["desc"] for v in JOIN])
def test_msg_join(vector: dict[str, Any]) -> None:
    atoms = vector["atoms"]
    msg = Message(
        command=atoms["verb"],
        params=tuple(atoms.get("params", [])),
        source=atoms.get("source"),
        tags=atoms.get("tags", {}),
    )
    line = format_message(msg)
    assert line in vector["matches"]
    assert msg.to_bytes() == line.encode("utf-8") + b"\r\n"
