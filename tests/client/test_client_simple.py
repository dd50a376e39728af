"""Simple mode: the same core behind a PromptSession, printing a transcript."""

from __future__ import annotations

import asyncio

from client.clienthelpers import feed, make_client, until
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from chat_client.simple import SimpleUI


async def test_transcript_prompt_and_commands() -> None:
    client, wire = make_client(rooms=("#a", "#b"))
    printed: list[str] = []
    with create_pipe_input() as pipe:
        ui = SimpleUI(client, input=pipe, output=DummyOutput(), write=printed.append,
                      colour=False)
        task = asyncio.create_task(ui.run())
        feed(client, ":bob!b@h PRIVMSG #b :hello from b", ":bob!b@h PRIVMSG #a :me: ping")
        assert printed[-2].endswith("[#b] <bob> hello from b")
        assert printed[-1].endswith("[#a] <bob> me: ping")
        pipe.send_text("hi all\r")
        await until(lambda: wire.data != b"")
        assert wire.commands() == ["PRIVMSG #a :hi all"]
        pipe.send_text("bo\t\r")
        await until(lambda: wire.data != b"")
        assert wire.commands() == ["PRIVMSG #a bob:"]
        pipe.send_text("\x0e")
        await until(lambda: client.state.active.name == "#b")
        assert printed[-1] == "-- now talking in #b"
        pipe.send_text("/quit\r")
        await asyncio.wait_for(task, 5)
    assert wire.commands() == ["QUIT Leaving"]


async def test_ctrl_d_quits_and_noise_follows_the_room_setting() -> None:
    client, wire = make_client(hide_joins=("#lobby",))
    printed: list[str] = []
    with create_pipe_input() as pipe:
        ui = SimpleUI(client, input=pipe, output=DummyOutput(), write=printed.append,
                      colour=True)
        task = asyncio.create_task(ui.run())
        feed(client, ":carl!c@h JOIN #lobby", ":carl!c@h PRIVMSG #lobby :yo")
        assert not any("carl joined" in line for line in printed)
        assert "\x1b[" in printed[-1] and printed[-1].endswith("yo")
        pipe.send_text("\x04")
        await asyncio.wait_for(task, 5)
    assert wire.commands() == ["QUIT Leaving"]
