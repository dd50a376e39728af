"""POST /api/rooms/ROOM/messages driven by real curl, and HTTP on the chat port."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from support.irc import ClientFactory
from support.tools import require_tool
from support.web import ANY_ROOM_TOKEN, DEPLOY_TOKEN

from chat_server.app import ChatServer


@pytest.fixture
def web_limits() -> dict[str, object]:
    # A small bucket so that the 429 test needs few lines.
    return {"flood_burst": 5, "flood_rate": 1.0, "flood_backlog": 20,
            "max_connections_per_ip": 3}


async def curl(url: str, *args: str, data: bytes | None = None) -> tuple[int, dict[str, str], str]:
    """Run curl; the status, the response headers (lowercased) and the body."""
    exe = require_tool("curl", apt="curl")
    proc = await asyncio.create_subprocess_exec(
        exe, "-sS", "-i", "--max-time", "10", *args,
        *(["--data-binary", "@-"] if data is not None else []), url,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(data), 15)
    assert proc.returncode == 0, err.decode()
    text = out.decode("utf-8")
    while text.startswith("HTTP/1.1 1"):  # a 100 Continue before the answer
        text = text.partition("\r\n\r\n")[2]
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    return status, headers, body


def auth(token: str) -> list[str]:
    return ["-H", f"Authorization: Bearer {token}"]


def api(web_base: str, room: str) -> str:
    return f"http://{web_base}/api/rooms/{room}/messages"


async def test_a_post_appears_in_the_room_as_the_tokens_nick(
    web_base: str, connect: ClientFactory
) -> None:
    alice = await connect("alice")
    await alice.join("#lobby")
    status, headers, body = await curl(api(web_base, "lobby"), *auth(DEPLOY_TOKEN),
                                       "-H", "Content-Type: text/plain",
                                       data=b"deploy 42 finished\n")
    assert status == 201, body
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"room": "#lobby", "nick": "deploybot", "posted": 1}
    joined = await alice.expect(r" JOIN ")
    assert joined.source == "deploybot!~deploybot@web-api"
    said = await alice.expect(r" PRIVMSG #lobby ")
    assert said.source == "deploybot!~deploybot@web-api"
    assert said.params[-1] == "deploy 42 finished"
    # The bot stays: a second post is said without joining again.
    status, _, _ = await curl(api(web_base, "%23lobby"), *auth(DEPLOY_TOKEN),
                              "-H", "Content-Type: application/json",
                              data=json.dumps({"text": "line one\nline two"}).encode())
    assert status == 201
    first = await alice.expect(r" PRIVMSG #lobby ")
    second = await alice.expect(r" PRIVMSG #lobby ")
    assert [first.params[-1], second.params[-1]] == ["line one", "line two"]
    assert len([line for line in alice.seen if line.startswith(":deploybot!")
                and " JOIN " in line]) == 1


async def test_pipe_a_log_into_a_room(web_base: str, connect: ClientFactory) -> None:
    """The README's one-liner: curl --data-binary @- from a pipe, one message a line."""
    ops = await connect("ops")
    await ops.join("#ops")
    log = b"12:00 start\r\n12:01 <script>alert(1)</script>\n\n12:02 done\n"
    status, _, body = await curl(api(web_base, "ops"), *auth(DEPLOY_TOKEN),
                                 "-H", "Content-Type: text/plain", data=log)
    assert status == 201 and json.loads(body)["posted"] == 3
    got = [(await ops.expect(r" PRIVMSG #ops ")).params[-1] for _ in range(3)]
    assert got == ["12:00 start", "12:01 <script>alert(1)</script>", "12:02 done"]


async def test_missing_or_wrong_token_is_401(web_base: str) -> None:
    status, headers, body = await curl(api(web_base, "lobby"), data=b"hi")
    assert status == 401 and "Bearer" in json.loads(body)["error"]
    assert headers["www-authenticate"].startswith("Bearer")
    status, _, body = await curl(api(web_base, "lobby"), *auth("not-a-token-at-all"),
                                 data=b"hi")
    assert status == 401 and json.loads(body) == {"error": "unknown token"}


async def test_a_room_the_token_may_not_post_to_is_403(
    web_base: str, connect: ClientFactory
) -> None:
    dev = await connect("dev")
    await dev.join("#dev")
    status, _, body = await curl(api(web_base, "dev"), *auth(DEPLOY_TOKEN), data=b"hi")
    assert status == 403 and "#dev" in json.loads(body)["error"]
    assert not [line for line in dev.seen if " PRIVMSG #" in line]


async def test_a_room_nobody_is_in_is_404(web_base: str) -> None:
    status, _, body = await curl(api(web_base, "nowhere"), *auth(ANY_ROOM_TOKEN), data=b"hi")
    assert status == 404 and "#nowhere" in json.loads(body)["error"]
    status, _, body = await curl(f"http://{web_base}/api/rooms/lobby/other",
                                 *auth(ANY_ROOM_TOKEN), data=b"hi")
    assert status == 404


@pytest.mark.parametrize(("content_type", "body", "says"), [
    ("text/plain", b"\n \n", "empty"),
    ("application/json", b"{not json", "not valid JSON"),
    ("application/json", b'{"message": "hi"}', '{"text": "..."}'),
    ("text/plain", b"\xff\xfe", "not UTF-8"),
    ("text/plain", b"a\0b", "NUL"),
    ("image/png", b"hi", "text/plain or application/json"),
])
async def test_a_bad_body_is_400(web_base: str, connect: ClientFactory, content_type: str,
                                 body: bytes, says: str) -> None:
    lobby = await connect("lobbyist")
    await lobby.join("#lobby")
    status, _, answer = await curl(api(web_base, "lobby"), *auth(DEPLOY_TOKEN),
                                   "-H", f"Content-Type: {content_type}", data=body)
    assert status == 400 and says in json.loads(answer)["error"]


async def test_a_huge_body_or_line_is_413(web_base: str, connect: ClientFactory,
                                          server: ChatServer) -> None:
    lobby = await connect("lobbyist")
    await lobby.join("#lobby")
    huge = b"x" * (server.config.web.max_body_bytes + 1)
    status, _, body = await curl(api(web_base, "lobby"), *auth(DEPLOY_TOKEN), data=huge)
    assert status == 413 and "larger than" in json.loads(body)["error"]
    status, _, body = await curl(api(web_base, "lobby"), *auth(DEPLOY_TOKEN),
                                 data=b"y" * 1000)
    assert status == 413 and "line 1" in json.loads(body)["error"]
    assert not [line for line in lobby.seen if " PRIVMSG #" in line]


async def test_posting_faster_than_the_flood_policy_is_429(
    web_base: str, connect: ClientFactory, server: ChatServer
) -> None:
    lobby = await connect("lobbyist")
    await lobby.join("#lobby")
    burst = server.config.limits.flood_burst
    lines = b"".join(b"line %d\n" % n for n in range(burst))
    status, _, _ = await curl(api(web_base, "lobby"), *auth(DEPLOY_TOKEN), data=lines)
    assert status == 201
    status, headers, body = await curl(api(web_base, "lobby"), *auth(DEPLOY_TOKEN),
                                       data=b"one too many\nand another\n")
    assert status == 429 and "too fast" in json.loads(body)["error"]
    assert int(headers["retry-after"]) >= 1
    for n in range(burst):
        assert (await lobby.expect(r" PRIVMSG #lobby ")).params[-1] == f"line {n}"
    # Refused whole: neither line of the refused post was said.
    await lobby.send("PING :end")
    await lobby.expect("PONG")
    assert not [line for line in lobby.seen if "one too many" in line or "and another" in line]


async def test_a_browser_on_the_chat_port_gets_an_http_answer(
    server: ChatServer, web_base: str
) -> None:
    host, port = server.addresses[0]
    status, headers, body = await curl(f"http://{host}:{port}/")
    assert status == 400
    assert headers["content-type"].startswith("text/plain")
    assert f"The web page is at http://{web_base}/" in body
    assert "nickname" not in body


async def test_the_page_and_its_files_are_served(web_base: str) -> None:
    status, headers, body = await curl(f"http://{web_base}/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert '<script src="/app.js"' in body and "<script>" not in body
    status, headers, body = await curl(f"http://{web_base}/app.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in body
    status, _, body = await curl(f"http://{web_base}/nothing-here")
    assert status == 404 and json.loads(body)["error"] == "nothing at /nothing-here"


async def test_web_connections_count_against_the_same_per_address_limit(
    web_base: str, connect: ClientFactory, server: ChatServer
) -> None:
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import InvalidStatus

    limit = server.config.limits.max_connections_per_ip
    for n in range(limit):
        await connect(f"tcp{n}")
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(f"ws://{web_base}/", subprotocols=["text.ircv3.net"]):  # type: ignore[list-item]
            pass
    assert refused.value.response.status_code == 503
    assert b"Too many connections from your address" in refused.value.response.body
    status, _, body = await curl(api(web_base, "lobby"), *auth(DEPLOY_TOKEN), data=b"hi")
    assert status == 503 and "Too many connections" in json.loads(body)["error"]


async def test_curl_asking_100_continue_gets_it_and_does_not_wait(
    web_base: str, connect: ClientFactory
) -> None:
    lobby = await connect("lobbyist")
    await lobby.join("#lobby")
    # Over 1 KiB, curl sends Expect: 100-continue; unanswered, it would wait 30 s here.
    lines = b"".join(b"%d " % n + b"z" * 380 + b"\n" for n in range(4))
    status, _, body = await asyncio.wait_for(curl(
        api(web_base, "lobby"), *auth(DEPLOY_TOKEN), "--expect100-timeout", "30",
        "-H", "Expect: 100-continue", data=lines), 10)
    assert status == 201 and json.loads(body)["posted"] == 4
