"""Key bindings, loaded by small functions and merged by the application.

Owns what each key does: sending, completion, paste review, scrolling, switching
buffers, the member list and quitting. Bindings call methods of the state or of the
`ChatUI`; they hold no state of their own. Must not import the layout or the network
layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prompt_toolkit.filters import Condition, has_focus
from prompt_toolkit.key_binding import (
    KeyBindings,
    KeyBindingsBase,
    KeyPressEvent,
    merge_key_bindings,
)

from chat_client.state import ClientState

if TYPE_CHECKING:
    from chat_client.ui.app import ChatUI


def load_navigation_bindings(state: ClientState) -> KeyBindings:
    """Switching buffers: Alt+1..9, Ctrl+N/Ctrl+P, Alt+A for the next activity."""
    kb = KeyBindings()

    for digit in "123456789":
        @kb.add("escape", digit)
        def _switch(event: KeyPressEvent, index: int = int(digit) - 1) -> None:
            state.switch_to(index)

    @kb.add("c-n")
    def _next(event: KeyPressEvent) -> None:
        state.next_buffer(1)

    @kb.add("c-p")
    def _previous(event: KeyPressEvent) -> None:
        state.next_buffer(-1)

    @kb.add("escape", "a")
    def _activity(event: KeyPressEvent) -> None:
        state.next_activity()

    return kb


def load_scroll_bindings(ui: ChatUI) -> KeyBindings:
    """PageUp/PageDown by most of a screen; the view then stays put as lines arrive.

    PageUp near the top of the scrollback also asks the server for older history.
    """
    kb = KeyBindings()

    @kb.add("pageup")
    def _up(event: KeyPressEvent) -> None:
        ui.scroll_back()

    @kb.add("pagedown")
    def _down(event: KeyPressEvent) -> None:
        ui.state.scroll(-ui.page_size())

    @kb.add("f2")
    def _members(event: KeyPressEvent) -> None:
        ui.state.show_members = not ui.state.show_members
        ui.state.changed()

    return kb


def load_input_bindings(ui: ChatUI) -> KeyBindings:
    """Enter, Tab, Escape (cancel a paste confirmation) and leaving with Ctrl+C/Ctrl+D."""
    kb = KeyBindings()
    searching = Condition(lambda: ui.application.layout.is_searching)
    in_input = has_focus(ui.input_buffer) & ~searching

    @kb.add("enter", filter=in_input)
    def _enter(event: KeyPressEvent) -> None:
        ui.submit()

    @kb.add("escape", "enter", filter=in_input)
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @kb.add("tab", filter=in_input)
    def _complete(event: KeyPressEvent) -> None:
        ui.complete()

    @kb.add("escape", filter=Condition(lambda: ui.paste_pending), eager=True)
    def _cancel(event: KeyPressEvent) -> None:
        ui.cancel_paste()

    @kb.add("c-c")
    def _quit(event: KeyPressEvent) -> None:
        ui.client.quit()

    @kb.add("c-d", filter=in_input & Condition(lambda: not ui.input_buffer.text))
    def _eof(event: KeyPressEvent) -> None:
        ui.client.quit()

    return kb


def load_bindings(ui: ChatUI) -> KeyBindingsBase:
    return merge_key_bindings([
        load_navigation_bindings(ui.state),
        load_scroll_bindings(ui),
        load_input_bindings(ui),
    ])
