"""SASL's AUTHENTICATE framing and the PLAIN message: what one side encodes, the other
puts back together; everything else is refused with the error its numeric needs."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_server.protocol.sasl import (
    CHUNK,
    Malformed,
    ResponseReader,
    TooLong,
    decode_plain,
    encode_plain,
    encode_response,
)


def read_all(reader: ResponseReader, chunks: list[str]) -> bytes | None:
    result = None
    for i, chunk in enumerate(chunks):
        result = reader.add(chunk)
        assert (result is None) == (i < len(chunks) - 1)
    return result


@given(st.binary(max_size=2000))
def test_a_response_survives_its_chunks(data: bytes) -> None:
    chunks = encode_response(data)
    assert all(len(c) <= CHUNK for c in chunks)
    assert all(len(c) == CHUNK for c in chunks[:-1])
    assert len(chunks[-1]) < CHUNK
    assert read_all(ResponseReader(8192), chunks) == data


def test_empty_and_exactly_full_responses_end_with_plus() -> None:
    assert encode_response(b"") == ["+"]
    full = encode_response(b"x" * 300)
    assert [len(c) for c in full] == [400, 1] and full[-1] == "+"


def test_the_reader_is_ready_for_the_next_response_after_one_or_after_an_error() -> None:
    reader = ResponseReader(8192)
    assert reader.add("YWxpY2U=") == b"alice"
    assert reader.add("A" * 400) is None
    with pytest.raises(Malformed):
        reader.add("!!")
    assert reader.add("+") == b""


@pytest.mark.parametrize("chunk", ["YWxpY2U", "not base64", "YW=xp", "é", ""])
def test_bad_base64_or_an_empty_chunk_is_malformed(chunk: str) -> None:
    with pytest.raises(Malformed):
        ResponseReader(8192).add(chunk)


def test_a_long_chunk_is_too_long_and_a_long_response_malformed() -> None:
    with pytest.raises(TooLong):
        ResponseReader(8192).add("A" * 401)
    with pytest.raises(TooLong):
        ResponseReader(8192).add("é" * 201)  # 402 bytes in 201 characters
    reader = ResponseReader(800)
    assert reader.add("A" * 400) is None
    assert reader.add("A" * 400) is None
    with pytest.raises(Malformed):
        reader.add("AAAA")
    assert reader.add(base64.b64encode(b"again").decode()) == b"again"


FIELD = st.text(alphabet=st.characters(blacklist_characters="\0", codec="utf-8"))


@given(FIELD, FIELD.filter(bool), FIELD.filter(bool))
def test_a_plain_message_decodes_to_what_was_encoded(authzid: str, authcid: str,
                                                     password: str) -> None:
    assert decode_plain(encode_plain(authcid, password, authzid)) == (authzid, authcid, password)


@pytest.mark.parametrize("data", [
    b"", b"alice", b"\0alice", b"\0alice\0", b"\0\0password", b"a\0b\0c\0d", b"\0alice\0\xff",
])
def test_a_plain_message_without_three_fields_an_account_and_a_password_is_malformed(
    data: bytes,
) -> None:
    with pytest.raises(Malformed):
        decode_plain(data)
