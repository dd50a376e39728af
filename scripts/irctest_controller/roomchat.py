"""irctest controller for roomchat: how the conformance suite starts chat-server.

irctest (github.com/progval/irctest) imports this module by name (`--controller
roomchat`, with this directory on PYTHONPATH) and calls `get_irctest_controller_class()`.
For every test it asks for a fresh server: the controller writes a TOML config into the
test's temporary directory and starts `python -m chat_server` from the project's .venv on
127.0.0.1 and the port irctest reserved. scripts/irctest is the way to run it; see
docs/CONFORMANCE.md.

It runs inside irctest's own virtualenv and imports only irctest and the standard
library, never chat_server: the server is a separate process, as it is for every other
server irctest drives. The server's Python is the project's .venv (IRCTEST_ROOMCHAT_PYTHON
overrides it); the chat_server package is whichever that Python imports, so a PYTHONPATH
naming another checkout tests that checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from typing import Any, ClassVar

from irctest import patma
from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController
from irctest.specifications import Capabilities

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"

# What every test's server gets; everything else keeps the shipped default. Flood control
# is off (irctest sends bursts far past a person's typing) and the per-address connection
# limit wide (one test may open dozens of clients from 127.0.0.1). Replay on join stays
# on: the selection in docs/CONFORMANCE.md gives the same results with it off.
# The operator irctest's tests use (`OPER operuser operpassword`). The hash is of
# "operpassword", made once with `echo operpassword | chat-server hash-password`: the
# controller does not import chat_server (nor argon2) to make it.
OPERATOR = {
    "name": "operuser",
    "password": "$argon2id$v=19$m=65536,t=3,p=4$kXVt0V7kEguOmga1fK9BVA$"
                "u1CVFtsse8jAgKwecuNExCjQCdxdQXgZ1UxDhHODfkc",
}
BASE_CONFIG: dict[str, dict[str, Any]] = {
    "server": {"host": LOOPBACK, "name": "My.Little.Server", "description": "test server"},
    "limits": {"flood_rate": 0, "max_connections_per_ip": 1000},
    "store": {"backend": "memory"},
}


# accounts.max_password's default: the longest password an account may have.
MAX_PASSWORD_BYTES = 300


def toml_value(value: object) -> str:
    """One TOML value. Strings go out JSON-escaped, which TOML basic strings accept."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    raise TypeError(f"no TOML form for {value!r}")


def to_toml(config: dict[str, Any]) -> str:
    """The config as TOML: a table per section, an array of tables per list of dicts.

    Lists of dicts are how repeated blocks (one per operator, say) are written, so a
    section of that shape needs no change here.
    """
    out: list[str] = []
    for name, body in config.items():
        blocks = body if isinstance(body, list) else [body]
        header = f"[[{name}]]" if isinstance(body, list) else f"[{name}]"
        for block in blocks:
            out.append(header)
            out.extend(f"{key} = {toml_value(value)}" for key, value in block.items())
            out.append("")
    return "\n".join(out)


class RoomchatController(BaseServerController, DirectoryBasedController):
    software_name = "roomchat"
    supported_sasl_mechanisms: ClassVar[set[str]] = {"PLAIN", "SCRAM-SHA-256"}
    supports_sts = False
    _port_wait_interval = 0.01

    # What the server advertises today. irctest turns a NAK of a declared capability
    # into a failure instead of a skip, and checks the ISUPPORT values in
    # isupport.py testValues: losing one of these is then a regression it reports.
    capabilities = frozenset(
        (
            Capabilities.ACCOUNT_NOTIFY,
            Capabilities.ACCOUNT_TAG,
            Capabilities.AWAY_NOTIFY,
            Capabilities.BATCH,
            Capabilities.ECHO_MESSAGE,
            Capabilities.EXTENDED_JOIN,
            Capabilities.EXTENDED_MONITOR,
            Capabilities.LABELED_RESPONSE,
            Capabilities.MESSAGE_TAGS,
            Capabilities.MULTI_PREFIX,
            Capabilities.SERVER_TIME,
        )
    )
    isupport: ClassVar[dict[str, object]] = {
        "BOT": "B",
        "CASEMAPPING": "rfc8265",
        "MONITOR": patma.ANYSTR,
        "PREFIX": "(ov)@+",
        "TARGMAX": patma.ANYSTR,
        "UTF8ONLY": None,
        "WHOX": None,
    }

    def get_hostname_and_port(self) -> tuple[str, int]:
        """A free port on loopback, reserved in irctest's shared list like the base does.

        The base binds ("", 0) and hands out 0.0.0.0; the server listens on 127.0.0.1
        only, so the port is found there too.
        """
        with self._used_ports() as used_ports:
            while True:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind((LOOPBACK, 0))
                    port = s.getsockname()[1]
                if (LOOPBACK, port) not in used_ports:
                    break
            used_ports.add((LOOPBACK, port))
            self._own_ports.add((LOOPBACK, port))
        return (LOOPBACK, port)

    def server_config(
        self,
        port: int,
        password: str | None,
        websocket: tuple[str, int] | None,
    ) -> dict[str, Any]:
        """The TOML tables for one test's server."""
        config: dict[str, Any] = {
            section: dict(values) for section, values in BASE_CONFIG.items()}
        config["opers"] = [dict(OPERATOR)]
        config["server"]["port"] = port
        if password:
            config["server"]["password"] = password
        # Accounts are built in (no services process): REGISTER before connecting only
        # where the test asks for it, as the spec leaves it to the server.
        config["accounts"] = {
            "register_before_connect": self.test_config.account_registration_before_connect,
            # irctest's accounts have passwords as short as "bar" and "sesame".
            "min_password": 1,
        }
        if websocket is not None:
            config["web"] = {"listen": f"{websocket[0]}:{websocket[1]}"}
        return config

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: str | None,
        ssl: bool,
        run_services: bool,
        faketime: str | None,
        websocket_hostname: str | None = None,
        websocket_port: int | None = None,
    ) -> None:
        if ssl:
            raise NotImplementedByController("TLS on the tested port")
        if self.test_config.account_registration_requires_email:
            raise NotImplementedByController("e-mail verification of new accounts")
        assert self.proc is None
        self.port = port
        self.hostname = hostname
        self.create_config()
        assert self.directory
        websocket = None
        if websocket_hostname is not None and websocket_port is not None:
            websocket = (websocket_hostname, websocket_port)
        with self.open_file("roomchat.toml", "w") as fd:
            fd.write(to_toml(self.server_config(port, password, websocket)))

        python = os.environ.get(
            "IRCTEST_ROOMCHAT_PYTHON", str(PROJECT_ROOT / ".venv" / "bin" / "python")
        )
        # ROOMCHAT_* variables are server settings: the shell's must not change the test.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMCHAT_")}
        # The two LIST tests that need hours to pass run under libfaketime when it is
        # installed (Debian: faketime), as irctest does for ngIRCd; they skip otherwise.
        faketime_cmd: list[str] = []
        if faketime and shutil.which("faketime"):
            faketime_cmd = ["faketime", "-f", faketime]
            self.faketime_enabled = True
        self.proc = self.execute(
            [*faketime_cmd, python, "-m", "chat_server",
             "--config", self.directory / "roomchat.toml"],
            proc_name="chat-server",
            env=env,
            cwd=self.directory,
        )
        self.wait_for_port()


    def wait_for_services(self) -> None:
        """NickServ and ChanServ are part of the server: up when its port is."""

    def registerUser(self, case: Any, username: str, password: str | None = None) -> None:
        """Make an account the way a person would: connect as its nick, NickServ REGISTER."""
        assert password
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            # Longer passwords are refused by design (accounts.max_password).
            raise NotImplementedByController(f"passwords over {MAX_PASSWORD_BYTES} bytes")
        client = case.addClient(show_io=False)
        case.sendLine(client, "CAP LS 302")
        case.sendLine(client, "NICK " + username)
        case.sendLine(client, "USER r e g :user")
        case.sendLine(client, "CAP END")
        while case.getRegistrationMessage(client).command != "001":
            pass
        case.getMessages(client)
        case.sendLine(client, "NS REGISTER " + password)
        while True:
            msg = case.getMessage(client)
            if msg.command == "900":
                break
            assert msg.command != "FAIL" and "exist" not in " ".join(msg.params), msg
        case.sendLine(client, "QUIT")
        case.assertDisconnected(client)


def get_irctest_controller_class() -> type[RoomchatController]:
    return RoomchatController
