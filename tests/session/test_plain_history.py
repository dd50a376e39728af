"""Kept lines in plain mode, driven by plain calls on a real hub with the memory store."""

from __future__ import annotations

import time

from support.plain import FakeLink, irc_user

from chat_server.config import HistorySection, StoreSection
from chat_server.hub.hub import Hub, HubSettings
from chat_server.protocol.plain import clock
from chat_server.session.plain import PlainSession
from chat_server.store.memory import MemoryStore

YESTERDAY = 1_796_151_781.0  # 2026-12-01 19:03:01 UTC
TODAY = YESTERDAY + 86_400


def test_yesterdays_lines_show_their_date_todays_only_their_time() -> None:
    now = [YESTERDAY]
    store = MemoryStore(StoreSection(backend="memory"), HistorySection())
    hub = Hub(HubSettings(name="example.org"), history=store, clock=lambda: now[0])
    bob, _ = irc_user(hub, "bob")
    bob.on_line(b"JOIN #lobby")
    bob.on_line(b"PRIVMSG #lobby :last night")
    now[0] = TODAY
    bob.on_line(b"PRIVMSG #lobby :this morning")
    link = FakeLink()
    PlainSession(hub, link, "#lobby").on_line("张三".encode())
    dated = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(YESTERDAY))
    assert link.take()[-4:] == [
        "--- earlier in #lobby ---",
        f"[{dated}] #lobby <bob> last night",
        f"[{clock(TODAY)}] #lobby <bob> this morning",
        "--- now ---",
    ]


def test_time_off_drops_the_stamps_of_kept_lines_too() -> None:
    store = MemoryStore(StoreSection(backend="memory"), HistorySection())
    hub = Hub(HubSettings(name="example.org"), history=store, clock=lambda: YESTERDAY)
    bob, _ = irc_user(hub, "bob")
    bob.on_line(b"JOIN #dev")
    bob.on_line(b"PRIVMSG #dev :\x01ACTION waves\x01")
    link = FakeLink()
    zhang = PlainSession(hub, link, "#lobby")
    zhang.on_line("张三".encode())
    zhang.on_line(b"/time off")
    link.take()
    zhang.on_line(b"/join dev")
    assert link.take()[-3:] == ["--- earlier in #dev ---", "#dev * bob waves", "--- now ---"]
