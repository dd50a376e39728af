"""The full-screen application: input and output on one asyncio loop.

Owns the prompt_toolkit Application, the input buffer with its history and reverse
search, submitting (with review of multi-line pastes), completion, the bell, and the
order of start-up and shutdown of the UI and the connection. Must not parse IRC.
"""

from __future__ import annotations

import asyncio
import contextlib

from prompt_toolkit.application import Application
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output
from prompt_toolkit.widgets import SearchToolbar

from chat_client.client import Client
from chat_client.commands import REGISTRY
from chat_client.completion import TabCompleter
from chat_client.net import Connection
from chat_client.ui.keybindings import load_bindings
from chat_client.ui.layout import MessagePane, build_layout
from chat_client.ui.secret import SecretSafeHistory
from chat_client.ui.style import STYLE

# A paste of more lines than this waits for a second Enter before it is sent, so a
# mis-paste of a log file does not flood the room.
PASTE_CONFIRM_LINES = 3
# Floods of incoming lines invalidate the screen hundreds of times a second; one
# redraw per interval is plenty and leaves the loop free for keystrokes.
MIN_REDRAW_INTERVAL = 0.03
SHUTDOWN_GRACE = 2.0


class ChatUI:
    """The full-screen front end over one `Client`."""

    def __init__(self, client: Client, *, input: Input | None = None,
                 output: Output | None = None) -> None:
        self.client = client
        self.state = client.state
        self.paste_pending = False
        self.completer = TabCompleter(self.state, REGISTRY.names())
        self.input_buffer = Buffer(
            multiline=True,
            history=SecretSafeHistory(),
            on_text_changed=lambda _: self._edited(),
        )
        search = SearchToolbar()
        self.pane = MessagePane(self.state, client.config.timestamp_format)
        self.application: Application[None] = Application(
            layout=build_layout(self, search),
            key_bindings=load_bindings(self),
            style=STYLE,
            full_screen=True,
            input=input,
            output=output,
            enable_page_navigation_bindings=False,
            min_redraw_interval=MIN_REDRAW_INTERVAL,
        )
        self.state.on_change.append(self.application.invalidate)
        self.state.on_alert.append(self._bell)
        client.on_quit.append(self._exit)

    def page_size(self) -> int:
        rows = self.application.output.get_size().rows
        return max(rows - 6, 1)

    def scroll_back(self) -> None:
        """PageUp: back a page, no further than the top line; older history near it."""
        self.client.scroll_back(self.page_size(), limit=self.pane.max_scroll())

    def _edited(self) -> None:
        if self.paste_pending:
            self.cancel_paste()

    def cancel_paste(self) -> None:
        self.paste_pending = False
        self.state.status = ""
        self.state.changed()

    def submit(self) -> None:
        """Send the input; a long multi-line paste needs a second Enter first."""
        text = self.input_buffer.text
        if not text.strip():
            return
        lines = [line for line in text.split("\n") if line.strip()]
        if len(lines) > PASTE_CONFIRM_LINES and not self.paste_pending:
            self.paste_pending = True
            self.state.status = (
                f"Send {len(lines)} lines to {self.state.active.name}? "
                "Enter sends, Esc keeps editing"
            )
            self.state.changed()
            return
        self.paste_pending = False
        self.state.status = ""
        self.input_buffer.reset(append_to_history=True)
        self.client.execute(text)

    def complete(self) -> None:
        doc = self.input_buffer.document
        result = self.completer.complete(doc.text, doc.cursor_position)
        if result is not None:
            text, cursor = result
            self.input_buffer.text = text
            self.input_buffer.cursor_position = cursor

    def _bell(self) -> None:
        if self.client.config.bell:
            self.application.output.bell()

    def _exit(self) -> None:
        future = self.application.future
        if future is not None and not future.done():
            self.application.exit()


async def run_fullscreen(client: Client) -> None:
    """Run the screen and the connection together until the user quits."""
    ui = ChatUI(client)
    task = asyncio.create_task(Connection(client).run())
    try:
        await ui.application.run_async()
    finally:
        client.quit()
        await stop_connection(task)


async def stop_connection(task: asyncio.Task[None]) -> None:
    """Let the QUIT reach the server (bounded), then cancel whatever is left."""
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(task), SHUTDOWN_GRACE)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
