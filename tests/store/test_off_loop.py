"""No SQLite runs on the event loop: an in-process server keeping history in SQLite
opens its store, chats, answers CHATHISTORY and replays on join, and every SQLite
connection it opens is opened, so used (a connection refuses other threads), off the
loop's thread."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from support.clients import server_and_clients
from support.history import FULL_CAPS, history, texts

# sqlite3.connect raises this audit event in the thread that opens the connection.
_watching: list[str] = []


def _audit(event: str, _args: tuple[object, ...]) -> None:
    if event == "sqlite3.connect" and _watching:
        _watching.append(threading.current_thread().name)


sys.addaudithook(_audit)


async def test_chat_history_and_replay_never_run_sqlite_on_the_loop(tmp_path: Path) -> None:
    loop_thread = threading.current_thread().name
    _watching.append("watching")  # from before the store is opened
    async with server_and_clients(store_backend="sqlite",
                                  store_data_dir=str(tmp_path / "data")) as (server, connect):
        try:
            al = await connect("al", FULL_CAPS)
            await al.join("#lobby")
            for n in range(5):
                await al.send(f"PRIVMSG #lobby :line {n}")
                await al.expect(rf"PRIVMSG #lobby :line {n}")
            lines = await history(al, "CHATHISTORY LATEST #lobby * 3")
            assert texts(lines) == ["line 2", "line 3", "line 4"]
            bo = await connect("bo")  # no chathistory: replayed on join, from memory
            await bo.send("JOIN #lobby")
            await bo.expect(r"PRIVMSG #lobby :\[[^]]*\] line 4")
        finally:
            opened_in = _watching[1:]
            _watching.clear()
        # Opening, the writer and the reader: each its own connection, none on the loop.
        assert len(opened_in) >= 3, opened_in
        assert loop_thread not in opened_in
        assert server.store.healthy
