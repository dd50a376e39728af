"""The client core shared by both front ends: state, protocol and what the user typed.

Owns the glue between the sans-I/O protocol and the state (apply events, rejoin rooms
and catch up private conversations after registration, fetch the latest history of a
conversation just opened and older history when the view reaches the top, flush
queued bytes to whatever writer the network layer attached) and the meaning of an
input line (a /command or text for the active buffer). Must not import prompt_toolkit
or open sockets: `net` attaches a write function.
"""

from __future__ import annotations

from collections.abc import Callable

from chat_client import events as ev
from chat_client.config import Config
from chat_client.protocol import ClientProtocol
from chat_client.state import Buffer, BufferKind, ClientState, ConnState

Writer = Callable[[bytes], None]


class Client:
    """One user's session: what the UI calls, and what the network layer feeds."""

    def __init__(self, config: Config, state: ClientState | None = None) -> None:
        self.config = config
        self.state = state or ClientState(
            config.nick,
            config.host,
            scrollback=config.scrollback,
            hide_joins=frozenset(config.hide_joins),
        )
        self.state.show_members = config.show_members
        self.protocol = ClientProtocol(
            config.nick,
            username=config.username,
            realname=config.realname,
            password=config.password,
            account=config.account,
            sasl=config.sasl,
            sasl_plain_without_tls=config.sasl_plain_without_tls,
            history_page=config.history_page,
            catch_up_max=config.scrollback,
        )
        self._write: Writer | None = None
        self.quitting = False
        self.on_quit: list[Callable[[], None]] = []
        for room in config.rooms:
            self.state.open(room, BufferKind.ROOM)
        if config.rooms:
            self.state.switch_to(1)

    # ----------------------------------------------------------------- network side

    @property
    def online(self) -> bool:
        return self._write is not None and self.protocol.registered

    def attach(self, write: Writer, secure: bool = False) -> None:
        """A new connection (TLS when `secure`) is open: start registering on it."""
        self._write = write
        self.protocol.connection_made(secure)
        self.flush()

    def detach(self) -> None:
        self._write = None

    def flush(self) -> None:
        data = self.protocol.data_to_send()
        if data and self._write is not None:
            self._write(data)

    def receive(self, data: bytes) -> None:
        events = self.protocol.receive_data(data)
        queries = self._queries()
        self.state.apply_all(events)
        if any(isinstance(e, ev.Registered) for e in events):
            self.protocol.ping()
            for room in self.state.rooms():
                self.protocol.join(room)
            for name in queries:
                self.protocol.fetch_missed(name)
        for name in self._queries() - queries:
            # A conversation just opened: show what came before its first line.
            self.protocol.fetch_latest(name)
        self.flush()

    def _queries(self) -> set[str]:
        return {b.name for b in self.state.buffers if b.kind is BufferKind.QUERY}

    def scroll_back(self, lines: int, limit: int | None = None) -> None:
        """Scroll the view back (to `limit` at most); near the top, fetch the page before."""
        self.state.scroll(lines, limit)
        buf = self.state.active
        # Ask one page early, so the next PageUp usually finds the lines already here.
        near_limit = limit is not None and buf.scroll + lines >= limit
        if near_limit or buf.lines_above_view() < lines:
            self.fetch_older(buf)

    def fetch_older(self, buf: Buffer) -> None:
        """Ask for the page before `buf`'s top line, unless there is no point."""
        if (buf.kind is BufferKind.SERVER or buf.history_complete or buf.loading_older
                or not self.online or (buf.kind is BufferKind.ROOM and not buf.joined)):
            return
        if len(buf.lines) >= buf.scrollback:
            self.state.status = f"Scrollback full ({buf.scrollback} lines): no older history"
            self.state.changed()
            return
        ref = buf.oldest_ref()
        if ref is not None and self.protocol.fetch_older(buf.name, *ref):
            buf.loading_older = True
            self.state.changed()
            self.flush()

    # ----------------------------------------------------------------- user side

    def execute(self, text: str) -> None:
        """Run what the user entered: a /command, or text for the active buffer."""
        from chat_client.commands import REGISTRY

        if text.startswith("/") and not text.startswith("//") and "\n" not in text:
            queries = self._queries()
            REGISTRY.dispatch(self, text[1:])
            for name in self._queries() - queries:
                self.protocol.fetch_latest(name)
            self.flush()
        else:
            # Trailing spaces are left over from completion, never meant to be sent.
            text = "\n".join(line.rstrip() for line in text.split("\n"))
            self.say(text[1:] if text.startswith("//") else text)
        self.state.changed()

    def say(self, text: str, *, action: bool = False) -> None:
        buf = self.state.active
        if buf.kind is BufferKind.SERVER:
            self.state.info("This is the server buffer; /join a room or /query a nick.",
                            error=True)
            return
        self.send_message(buf.name, text, action=action)

    def send_message(self, target: str, text: str, *, action: bool = False) -> None:
        if not self.online:
            self.state.info("Not connected: message not sent.", error=True)
            return
        self.state.active.scroll = 0
        self.state.active.new_below = 0
        self.state.apply_all(self.protocol.privmsg(target, text, action=action))
        self.flush()

    def quit(self, reason: str | None = None) -> None:
        """Say goodbye to the server (when connected) and tell the front end to stop."""
        if self.quitting:
            return
        self.quitting = True
        if self._write is not None:
            self.protocol.quit(reason or self.config.quit_message)
            self.flush()
        self.state.set_connection(ConnState.DISCONNECTED, "quit")
        for listener in self.on_quit:
            listener()
