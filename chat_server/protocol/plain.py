"""Plain mode as text: input hygiene, display cleaning, line shapes, friendly errors.

Sans-I/O and stateless: bytes a person typed in a raw terminal become one clean line of
text; what the server says becomes one readable line ending in CRLF (docs/PLAIN-MODE.md). The
session decides which line to say when; this module only says how it looks. Must not
import beyond the protocol package.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from chat_server.protocol import numerics as N

# "//text sends /text literally" (docs/PLAIN-MODE.md).
COMMAND_CHAR = "/"

# What a raw terminal sends for the erase key: Backspace (^H) or DEL (^?).
_ERASERS = frozenset("\x08\x7f")
# Escape sequences a terminal sends for arrow, function and editing keys: CSI (ESC [
# parameters, intermediates, final byte), SS3 (ESC O and one character), or ESC and one
# character. Removed whole, so an arrow key leaves no "[A" behind.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|O.?|.)?", re.DOTALL)
# C0, DEL and C1 controls. C1 matters on output: some terminals take U+009B as CSI.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class TypedLine:
    """One line as the person meant it, and whether its bytes were valid UTF-8."""

    text: str
    valid_utf8: bool


def clean_input(raw: bytes) -> TypedLine:
    """Decode a typed line and apply the edits a raw terminal leaves in it.

    Invalid UTF-8 becomes U+FFFD, so no broken bytes reach anyone; escape sequences are
    dropped; Backspace and DEL erase the character before them; a tab becomes a space
    (pasted text keeps its word breaks); every other control character is removed.
    """
    try:
        text, valid = raw.decode("utf-8"), True
    except UnicodeDecodeError:
        text, valid = raw.decode("utf-8", "replace"), False
    if "\x1b" in text:
        text = _ESCAPE.sub("", text)
    out: list[str] = []
    for ch in text:
        if ch in _ERASERS:
            if out:
                out.pop()
        elif ch == "\t":
            out.append(" ")
        elif not _CONTROL.match(ch):
            out.append(ch)
    return TypedLine("".join(out), valid)


def visible(text: str) -> str:
    """Text from others made safe for a terminal: controls (formatting, escapes) removed."""
    return _CONTROL.sub("", text.replace("\t", " "))


def parse_action(text: str) -> str | None:
    """The action of a CTCP ACTION ("\\x01ACTION waves\\x01" -> "waves"), else None."""
    if not text.startswith("\x01ACTION"):
        return None
    body = text[len("\x01ACTION"):].removesuffix("\x01")
    if body and not body.startswith(" "):
        return None  # "\x01ACTIONS..." is some other CTCP
    return body[1:]


def make_action(action: str) -> str:
    return f"\x01ACTION {action}\x01"


def is_ctcp(text: str) -> bool:
    return text.startswith("\x01")


# -- lines --------------------------------------------------------------------------


def clock(when: float, dated: bool = False) -> str:
    """HH:MM:SS in the server's time zone (the TZ environment variable sets it), after
    YYYY-MM-DD when `dated`."""
    return time.strftime("%Y-%m-%d %H:%M:%S" if dated else "%H:%M:%S", time.localtime(when))


def day(when: float) -> str:
    """The date in the server's time zone, to tell whether a kept line is from today."""
    return time.strftime("%Y-%m-%d", time.localtime(when))


def line(body: str) -> bytes:
    """One line for a plain client: controls removed, CRLF added, UTF-8."""
    return (visible(body) + "\r\n").encode("utf-8", "replace")


def stamped(when: float, body: str, timestamps: bool = True, dated: bool = False) -> bytes:
    """A line of the conversation: `[HH:MM:SS] body`, or just `body` with /time off;
    `[YYYY-MM-DD HH:MM:SS] body` when `dated`."""
    return line(f"[{clock(when, dated)}] {body}" if timestamps else body)


def error(text: str) -> bytes:
    """Errors start with "! " and say what to do (docs/PLAIN-MODE.md)."""
    return line("! " + text)


def count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def listing(items: list[str]) -> str:
    return ", ".join(items)


# -- errors from the hub's numerics ---------------------------------------------------

NICK_RULES = "no spaces or , : * ? ! @, and no # or digit first"

# Numerics that answer a nickname choice: at the prompt they end by asking again.
_NICK_ERRORS: dict[str, str] = {
    N.ERR_NONICKNAMEGIVEN: "No nickname given",
    N.ERR_ERRONEUSNICKNAME: f"{{0}} cannot be a nickname ({NICK_RULES})",
    N.ERR_NICKNAMEINUSE: "Nickname {0} is taken",
}

# Reply parameters follow the recipient's nick: {0} is the first one after it.
_ERRORS: dict[str, str] = {
    N.ERR_NOSUCHNICK: "Nobody here is called {0}.",
    N.ERR_NOSUCHCHANNEL: "There is no room {0}.",
    N.ERR_CANNOTSENDTOCHAN: "You cannot speak in {0} (it is moderated, or you are banned); "
    "not sent.",
    N.ERR_TOOMANYCHANNELS: "You are in too many rooms to join {0}; /part one first.",
    N.ERR_WASNOSUCHNICK: "Nobody was called {0}.",
    N.ERR_TOOMANYTARGETS: "Too many recipients; not sent.",
    N.ERR_NORECIPIENT: "Nobody to send that to.",
    N.ERR_NOTEXTTOSEND: "Nothing to send.",
    N.ERR_USERNOTINCHANNEL: "{0} is not in {1}.",
    N.ERR_NOTONCHANNEL: "You are not in {0}.",
    N.ERR_USERONCHANNEL: "{0} is already in {1}.",
    N.ERR_NEEDMOREPARAMS: "Not enough parameters for {0}; see /help.",
    N.ERR_PASSWDMISMATCH: "This server needs a password, which plain mode cannot give; "
    "use an IRC client.",
    N.ERR_CHANNELISFULL: "{0} is full.",
    N.ERR_UNKNOWNMODE: "{0} is not a mode this server knows; see /help mode.",
    N.ERR_INVITEONLYCHAN: "{0} is invite-only; ask someone there to invite you.",
    N.ERR_BANNEDFROMCHAN: "You are banned from {0}.",
    N.ERR_BADCHANNELKEY: "{0} needs a key: /join {0} KEY",
    N.ERR_BADCHANMASK: "{0} is not a valid room name.",
    N.ERR_CHANOPRIVSNEEDED: "Only operators of {0} can do that.",
    N.ERR_UMODEUNKNOWNFLAG: "The only mode you can set on yourself is +i.",
    N.ERR_USERSDONTMATCH: "You can only change your own modes.",
    N.ERR_INVALIDKEY: "That key for {0} is not allowed (no spaces, commas or colons; "
    "at most 32 characters).",
    N.ERR_INVALIDMODEPARAM: "{2} is not a valid value for +{1} in {0}.",
    N.ERR_BANLISTFULL: "The ban list of {0} is full.",
}


def is_error(numeric: str) -> bool:
    """4xx, 5xx and 6xx numerics are errors; the rest are replies."""
    return numeric[:1] in "456"


def error_text(numeric: str, params: tuple[str, ...], at_prompt: bool) -> str:
    """The `! ` line's text for an error numeric; a nick error at the prompt asks again."""
    template = _NICK_ERRORS.get(numeric)
    if template is not None:
        suffix = "; pick another:" if at_prompt else "."
    else:
        template = _ERRORS.get(numeric, "")
        suffix = ""
    try:
        return template.format(*params) + suffix if template else _last(params)
    except IndexError:
        return _last(params)


def _last(params: tuple[str, ...]) -> str:
    return params[-1] if params else "Something went wrong."
