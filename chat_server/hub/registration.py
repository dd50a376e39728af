"""Registration and one's own identity: CAP, PASS, NICK, USER, PING, PONG, QUIT,
SETNAME and AWAY.

Owns the capabilities offered (CAPABILITIES, and STS) and the checks on a nickname and
a real name; a change once registered is emitted as a fact and applied in
`hub/apply.py`. Registers into the one command table of `hub/table.py`. Must not
import the session, transport or store layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_server.hub.accounts import SASL_MECHANISMS, nick_refused
from chat_server.hub.facts import (
    AwaySet,
    NickSet,
    RealnameSet,
)
from chat_server.hub.model import User
from chat_server.hub.sasl import abort as abort_sasl
from chat_server.hub.table import SERVICES, command
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message
from chat_server.protocol.text import number, strip_controls

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub


CAPABILITIES = (
    "account-notify",
    "account-tag",
    "away-notify",
    "batch",
    "cap-notify",
    "draft/account-registration",
    "draft/chathistory",
    "draft/event-playback",
    "echo-message",
    "extended-join",
    "extended-monitor",
    "labeled-response",
    "message-tags",
    "multi-prefix",
    "sasl",
    "server-time",
    "setname",
    "userhost-in-names",
)


@command("CAP", min_params=1, before_registration=True,
         usage="CAP LS|LIST|REQ|END", help="Negotiate IRCv3 capabilities.")
def cap(hub: Hub, user: User, msg: Message) -> None:
    sub = msg.params[0].upper()
    label = user.label
    if sub == "LS":
        if not user.registered:
            user.cap_negotiating = True
        v302 = (number(msg.param(1)) or 0) >= 302
        if v302:
            user.caps = user.caps | {"cap-notify"}
        # Only 302 clients may be sent values, and only they know STS.
        offered = " ".join(f"{cap}={value}" if v302 and (value := cap_value(hub, cap))
                           else cap for cap in offered_caps(hub))
        sts = sts_policy(hub, user)
        if sts and v302:
            offered += f" sts={sts}"
        hub.send_line(user, "CAP", label, "LS", offered)
    elif sub == "LIST":
        hub.send_line(user, "CAP", label, "LIST", " ".join(sorted(user.caps)))
    elif sub == "REQ":
        if not user.registered:
            user.cap_negotiating = True
        wanted = msg.param(1)
        add: set[str] = set()
        remove: set[str] = set()
        ok = bool(wanted.split())
        for item in wanted.split():
            name = item[1:] if item.startswith("-") else item
            if name not in offered_caps(hub):
                ok = False
                break
            (remove if item.startswith("-") else add).add(name)
        if ok:
            user.caps = frozenset((user.caps | add) - remove)
            hub.send_line(user, "CAP", label, "ACK", wanted)
        else:
            hub.send_line(user, "CAP", label, "NAK", wanted)
    elif sub == "END":
        if not user.registered:
            user.cap_negotiating = False
            register(hub, user)
    else:
        hub.reply(user, N.ERR_INVALIDCAPCMD, sub, "Invalid CAP command")


def offered_caps(hub: Hub) -> tuple[str, ...]:
    """CAPABILITIES, but labeled-response only on a server of its own: in a cluster
    what a command's facts lead to comes back from the log after its answer was sent,
    so one labeled response could not hold it all; and account registration only
    while it is open."""
    left_out = set()
    if hub.clustered:
        left_out.add("labeled-response")
    if hub.settings.accounts.registration != "open":
        left_out.add("draft/account-registration")
    return tuple(c for c in CAPABILITIES if c not in left_out) if left_out else CAPABILITIES


def cap_value(hub: Hub, cap: str) -> str:
    """The value CAP LS 302 gives a capability, or ""."""
    if cap == "sasl":
        return ",".join(SASL_MECHANISMS)
    if cap == "draft/account-registration":
        # No e-mail is asked for, and the account name is the nick.
        return "before-connect" if hub.settings.accounts.register_before_connect else ""
    return ""


def sts_policy(hub: Hub, user: User) -> str:
    """The IRCv3 STS value for this connection, or "" when STS is off.

    "To enforce an STS upgrade policy, servers MUST send [port] to non-securely
    connected clients"; "servers MUST send [duration] to securely connected clients".
    Not in CAPABILITIES: "Clients MUST NOT request this capability", so REQ gets NAK.
    """
    s = hub.settings
    if not s.sts_port:
        return ""
    return f"duration={s.sts_duration}" if user.secure else f"port={s.sts_port}"


@command("PASS", min_params=1, before_registration=True,
         usage="PASS PASSWORD", help="Give the server password before registering.")
def pass_(hub: Hub, user: User, msg: Message) -> None:
    if user.registered:
        hub.reply(user, N.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    expected = hub.settings.password
    user.password_ok = not expected or msg.params[0] == expected


@command("NICK", before_registration=True, activity=True,
         usage="NICK NAME", help="Choose or change your nickname.")
def nick(hub: Hub, user: User, msg: Message) -> None:
    new = msg.param(0)
    if not new:
        hub.reply(user, N.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    if not names.is_valid_nick(new):
        hub.reply(user, N.ERR_ERRONEUSNICKNAME, new, "Erroneous nickname")
        return
    folded = names.fold(new)
    if folded in SERVICES:
        hub.reply(user, N.ERR_ERRONEUSNICKNAME, new, "Reserved for a service")
        return
    holder = hub.users.get(folded)
    if holder is not None and holder is not user:
        hub.reply(user, N.ERR_NICKNAMEINUSE, new, "Nickname is already in use")
        return
    if user.registered and nick_refused(hub, user, new):
        hub.reply(user, N.ERR_NICKNAMEINUSE, new,
                  "Nickname is registered to someone else; log in first")
        return
    if not user.registered:
        user.set_identity(new)
        register(hub, user)
    elif new != user.nick:
        hub.emit(NickSet(user.uid, new, hub.stamp(), hub.new_msgid()))


@command("USER", min_params=4, before_registration=True,
         usage="USER NAME 0 * :REAL NAME", help="Give your user name and real name.")
def user_(hub: Hub, user: User, msg: Message) -> None:
    if user.registered:
        hub.reply(user, N.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    if not msg.params[0] or not msg.params[3]:
        # Modern IRC, USER: an empty username SHOULD be refused "(even if an empty
        # parameter is provided)"; the realname is held to the same rule.
        hub.reply(user, N.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
        return
    # No ident lookup is done, so the user name carries the customary "~".
    user.user = "~" + names.sanitize_user(msg.params[0])
    user.realname = strip_controls(msg.params[3])[:REALNAME_LEN]
    user.set_identity(user.nick)
    register(hub, user)


def register(hub: Hub, user: User) -> None:
    """Register `user` if they have said all it takes. A SASL exchange still waiting
    for the client is aborted first (sasl-3.1: 906, then registered without an
    account); a password being checked holds these commands until it is done."""
    if user.nick and user.user and not user.cap_negotiating:
        abort_sasl(hub, user)
    hub.try_register(user)


@command("PING", before_registration=True, usage="PING TOKEN", help="Check the server answers.")
def ping(hub: Hub, user: User, msg: Message) -> None:
    if not msg.params:
        hub.reply(user, N.ERR_NOORIGIN, "No origin specified")
        return
    hub.send_line(user, "PONG", hub.settings.name, msg.params[0])


@command("PONG", before_registration=True)
def pong(hub: Hub, user: User, msg: Message) -> None:
    # Any line resets the connection's idle timer in the transport; nothing else to do.
    return None


@command("QUIT", before_registration=True, usage="QUIT [MESSAGE]", help="Leave the server.")
def quit_(hub: Hub, user: User, msg: Message) -> None:
    text = msg.param(0)
    reason = f"Quit: {text}" if text else "Quit"
    hub.disconnect(user, reason, tell_user=reason, log_reason="Quit")


@command("SETNAME", min_params=1, usage="SETNAME :REAL NAME", help="Change your real name.")
def setname(hub: Hub, user: User, msg: Message) -> None:
    realname = strip_controls(msg.params[0])
    if not realname or len(realname) > REALNAME_LEN:
        hub.send_line(user, "FAIL", "SETNAME", "INVALID_REALNAME",
                      f"Real name must be 1 to {REALNAME_LEN} characters")
        return
    if realname != user.realname:
        hub.emit(RealnameSet(user.uid, realname))


# Longest real name kept (USER and SETNAME).
REALNAME_LEN = 100


@command("AWAY", usage="AWAY [TEXT]", help="Mark yourself away, or back without text.")
def away(hub: Hub, user: User, msg: Message) -> None:
    text = strip_controls(msg.param(0), keep_formatting=True)[: names.AWAYLEN]
    if text == user.away:
        # Repeating the same state tells nobody anything new.
        hub.reply(user, N.RPL_NOWAWAY if text else N.RPL_UNAWAY,
                  "You have been marked as being away" if text
                  else "You are no longer marked as being away")
        return
    if text:
        hub.reply(user, N.RPL_NOWAWAY, "You have been marked as being away")
    else:
        hub.reply(user, N.RPL_UNAWAY, "You are no longer marked as being away")
    hub.emit(AwaySet(user.uid, text, hub.clock()))
