"""CHATHISTORY parameters as the hub reads them: pure, no sockets."""

from __future__ import annotations

import pytest

from chat_server.hub.history import Ref, RefKind, Sub
from chat_server.hub.playback import Refused, parse_request, parse_time
from chat_server.session.irc import iso_time


@pytest.mark.parametrize("text", [
    "2026-12-01T19:03:01.123Z", "2026-12-01T19:03:01Z", "1970-01-01T00:00:00.000Z",
])
def test_a_server_time_reads_back_as_the_time_it_was(text: str) -> None:
    when = parse_time(text)
    assert when is not None
    assert iso_time(when).removesuffix(".000Z").removesuffix("Z") == \
        text.removesuffix(".000Z").removesuffix("Z")


@pytest.mark.parametrize("text", [
    "", "2026-12-01", "2026-12-01T19:03:01.123", "2026-12-01 19:03:01Z",
    "2026-02-30T19:03:01Z", "2026-00-01T19:03:01Z", "2026-12-01T24:00:00Z", "now",
])
def test_anything_else_is_not_a_time(text: str) -> None:
    assert parse_time(text) is None


def test_the_limit_is_capped_and_references_parsed() -> None:
    request = parse_request(("before", "#dev", "msgid=abc", "5000"), most=1000)
    assert (request.sub, request.target, request.start, request.limit) == (
        Sub.BEFORE, "#dev", Ref(RefKind.MSGID, msgid="abc"), 1000)
    between = parse_request(("BETWEEN", "bob", "timestamp=2026-12-01T19:03:01.5Z",
                             "msgid=x", "10"), most=1000)
    assert between.start == Ref(RefKind.TIMESTAMP, time=1796151781.5)  # 2026-12-01 19:03:01.5 UTC
    assert between.end == Ref(RefKind.MSGID, msgid="x")


@pytest.mark.parametrize(("params", "code", "context"), [
    ((), "INVALID_PARAMS", ("*",)),
    (("LATEST", "#dev", "*"), "INVALID_PARAMS", ("LATEST",)),
    (("AFTER", "#dev", "*", "10"), "INVALID_PARAMS", ("AFTER", "*")),
    (("AFTER", "#dev", "when=now", "10"), "INVALID_MSGREFTYPE", ("AFTER", "when=now")),
    (("TARGETS", "*", "timestamp=2026-12-01T19:03:01Z", "10"), "INVALID_PARAMS",
     ("TARGETS", "*")),
])
def test_refusals_carry_the_spec_code_and_what_was_wrong(
    params: tuple[str, ...], code: str, context: tuple[str, ...],
) -> None:
    with pytest.raises(Refused) as refused:
        parse_request(params, most=1000)
    assert (refused.value.code, refused.value.context) == (code, context)
