"""Passwords typed at the input line: shown as asterisks, never kept in the history.

Owns the two places a typed password could linger in the UI: the screen (the input
line, and in simple mode the transcript the accepted line stays in) and the input
history that Up recalls. Which part of a line is a password is the command table's
business (`commands.secret_start`). Must not parse IRC.
"""

from __future__ import annotations

from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.layout.processors import Processor, Transformation, TransformationInput
from prompt_toolkit.layout.utils import explode_text_fragments

from chat_client.commands import secret_start

MASK = "*"


class MaskSecrets(Processor):
    """Draws every character of a password as `MASK`, keeping the cursor where it is."""

    def apply_transformation(self, ti: TransformationInput) -> Transformation:
        start = secret_start(ti.document.text)
        if start is None or ti.lineno != 0:
            return Transformation(ti.fragments)
        fragments = explode_text_fragments(ti.fragments)
        for i in range(start, len(fragments)):
            fragment = fragments[i]
            if fragment[1] in ("", "\n"):
                continue
            if len(fragment) == 2:
                fragments[i] = (fragment[0], MASK)
            else:
                fragments[i] = (fragment[0], MASK, fragment[2])  # keeps its mouse handler
        return Transformation(fragments)


class SecretSafeHistory(InMemoryHistory):
    """An input history that keeps `/login ` of `/login alice sesame`: Up brings the
    command back for another try, never the password."""

    def append_string(self, string: str) -> None:
        start = secret_start(string)
        super().append_string(string if start is None else string[:start])
