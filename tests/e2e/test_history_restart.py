"""History survives a restart: a real server process, stopped with SIGTERM and started
again on the same data directory, gives back what was said, as it was said."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from support.history import FULL_CAPS, history
from support.irc import IrcClient
from support.plain import PlainClient
from support.servers import ServerProcess

from chat_server.protocol.message import Message


def by_text(lines: list[Message]) -> dict[str, tuple[str, str, str | None]]:
    return {m.param(1): (m.tags["msgid"], m.tags["time"], m.source) for m in lines}


async def test_messages_come_back_after_sigterm_with_their_msgids_and_times(
    tmp_path: Path,
) -> None:
    env = {"ROOMCHAT_STORE_DATA_DIR": str(tmp_path / "data")}
    first = ServerProcess([], env=env)
    try:
        alice = await IrcClient.connect("127.0.0.1", first.port)
        await alice.register("alice", FULL_CAPS)
        bob = await IrcClient.connect("127.0.0.1", first.port)
        await bob.register("bob", FULL_CAPS)
        await alice.join("#lobby")
        await bob.join("#lobby")
        for who, text in ((alice, "hello bob"), (bob, "hi alice"), (alice, "see you tomorrow")):
            await who.send(f"PRIVMSG #lobby :{text}")
            await alice.expect(rf"PRIVMSG #lobby :?{text}$")
        await bob.send("PRIVMSG alice :just between us")
        await alice.expect(r"PRIVMSG alice :just between us")
        before = by_text(await history(alice, "CHATHISTORY LATEST #lobby * 10"))
        private = by_text(await history(alice, "CHATHISTORY LATEST bob * 10"))
        assert list(before) == ["hello bob", "hi alice", "see you tomorrow"]
        assert list(private) == ["just between us"]
        await alice.close()
        await bob.close()
        first.proc.send_signal(signal.SIGTERM)
        log = await asyncio.to_thread(first.rest_of_log, 15)
        assert first.proc.returncode == 0, log
    finally:
        first.stop()

    second = ServerProcess([], env=env)
    try:
        alice = await IrcClient.connect("127.0.0.1", second.port)
        await alice.register("alice", FULL_CAPS)
        await alice.join("#lobby")
        assert by_text(await history(alice, "CHATHISTORY LATEST #lobby * 10")) == before
        # bob is not online: the conversation is still alice's to read.
        assert by_text(await history(alice, "CHATHISTORY LATEST bob * 10")) == private

        zhang = await PlainClient.connect("127.0.0.1", second.port)
        await zhang.send("张三")
        await zhang.expect(r"^--- earlier in #lobby ---$")
        kept = [await zhang.next() for _ in range(3)]
        assert kept == ["#lobby <alice> hello bob", "#lobby <bob> hi alice",
                        "#lobby <alice> see you tomorrow"]
        assert await zhang.next() == "--- now ---"
        await zhang.close()
        await alice.close()
    finally:
        second.stop()
