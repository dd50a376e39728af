"""The simple front end: a scrolling transcript with a prompt at the bottom.

For narrow terminals and screen readers: every line is printed once, in order, above
a PromptSession (patch_stdout keeps the half-typed input intact). Shares the client
core, state, commands, completion and navigation keys with the full-screen mode.
Must not parse IRC or import the full-screen layout.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable

from prompt_toolkit import PromptSession
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent, merge_key_bindings
from prompt_toolkit.output import Output
from prompt_toolkit.patch_stdout import patch_stdout

from chat_client.client import Client
from chat_client.commands import REGISTRY
from chat_client.completion import TabCompleter
from chat_client.net import Connection
from chat_client.state import Buffer, BufferKind, ConnState, Line, LineKind, nick_colour_index
from chat_client.text import clean
from chat_client.ui.app import stop_connection
from chat_client.ui.keybindings import load_navigation_bindings
from chat_client.ui.secret import MaskSecrets, SecretSafeHistory

# Twelve ANSI colours, as many as the full-screen palette, so a nick's slot is the same.
_ANSI_NICK = (31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96)


def _default_write(text: str) -> None:
    # Looked up at call time: patch_stdout replaces sys.stdout while the prompt runs.
    print(text, file=sys.stdout, flush=True)


class SimpleUI:
    """Prints each new line and reads input lines with a PromptSession."""

    def __init__(self, client: Client, *, input: Input | None = None,
                 output: Output | None = None,
                 write: Callable[[str], None] = _default_write,
                 colour: bool | None = None) -> None:
        self.client = client
        self.state = client.state
        self.write = write
        self.colour = colour if colour is not None else "NO_COLOR" not in os.environ
        self.completer = TabCompleter(self.state, REGISTRY.names())
        self._shown_active = self.state.active
        kb = KeyBindings()

        @kb.add("tab")
        def _complete(event: KeyPressEvent) -> None:
            buf = event.current_buffer
            result = self.completer.complete(buf.text, buf.cursor_position)
            if result is not None:
                buf.text, buf.cursor_position = result

        self.session: PromptSession[str] = PromptSession(
            message=self._prompt,
            history=SecretSafeHistory(),
            input_processors=[MaskSecrets()],
            key_bindings=merge_key_bindings([kb, load_navigation_bindings(self.state)]),
            input=input,
            output=output,
        )
        self.state.on_line.append(self._print_line)
        self.state.on_change.append(self._changed)
        self.state.on_alert.append(self._bell)

    def _prompt(self) -> str:
        conn = "" if self.state.conn is ConnState.CONNECTED else f"[{self.state.conn.value}] "
        return f"{conn}{self.state.active.name}> "

    def format_line(self, buf: Buffer, line: Line) -> str:
        stamp = line.time.astimezone().strftime(self.client.config.timestamp_format)
        where = "" if buf.kind is BufferKind.SERVER else f"[{buf.name}] "
        text = clean(line.text)
        nick = clean(line.nick)
        if self.colour and nick:
            code = _ANSI_NICK[nick_colour_index(line.nick, len(_ANSI_NICK))]
            nick = f"\x1b[{code}m{nick}\x1b[0m"
        if line.kind is LineKind.MESSAGE:
            body = f"<{nick}> {text}"
        elif line.kind is LineKind.ACTION:
            body = f"* {nick} {text}"
        elif line.kind is LineKind.NOTICE:
            body = f"-{nick}- {text}"
        elif line.kind is LineKind.ERROR:
            body = f"! {text}"
        else:
            body = f"-- {text}"
        return f"{stamp} {where}{body}"

    def _print_line(self, buf: Buffer, line: Line) -> None:
        if buf.visible(line):
            self.write(self.format_line(buf, line))

    def _changed(self) -> None:
        if self.state.active is not self._shown_active:
            self._shown_active = self.state.active
            self.write(f"-- now talking in {self.state.active.name}")
        self.session.app.invalidate()

    def _bell(self) -> None:
        if self.client.config.bell:
            self.session.output.bell()

    async def run(self) -> None:
        """Read lines until /quit, Ctrl+C or Ctrl+D."""
        while not self.client.quitting:
            try:
                text = await self.session.prompt_async()
            except (EOFError, KeyboardInterrupt):
                self.client.quit()
                break
            if text.strip():
                self.client.execute(text)


async def run_simple(client: Client) -> None:
    ui = SimpleUI(client)
    task = asyncio.create_task(Connection(client).run())
    try:
        with patch_stdout(raw=True):
            await ui.run()
    finally:
        client.quit()
        await stop_connection(task)
