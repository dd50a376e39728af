"""The whole command table, shared by the IRC and plain dialects: importing this
module registers every handler.

The machinery (`Command`, `COMMANDS`, `@command`) lives in `hub/table.py`, which the
concern modules import to register into; this module only imports them all, so the
table is complete whoever asks for it and no concern module needs to import this one
(no import cycle). Handlers decide against the hub's state, answer errors at once and
emit facts for every change of shared state (applied by `hub/apply.py`), never
touching a connection; plain-mode `/commands` are translated into these same
messages. Must not import the session, transport or store layers.
"""

from __future__ import annotations

from chat_server.hub import (  # noqa: F401 (each registers its commands)
    chanserv,
    messaging,
    monitor,
    nickserv,
    operators,
    queries,
    register,
    registration,
    rooms,
    sasl,
)
from chat_server.hub.table import COMMANDS, Command

__all__ = ["COMMANDS", "Command"]
