"""Certificates for tests (trustme: a throwaway CA), TLS clients, and servers with a TLS port."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme

from chat_server.app import ChatServer
from chat_server.config import Config
from support.irc import IrcClient
from support.servers import make_config
from support.tools import require_tool


@dataclass
class Pki:
    """A CA and a server certificate for 127.0.0.1, as PEM files in `root`."""

    root: Path
    ca: trustme.CA
    cert: Path
    key: Path
    ca_file: Path

    @classmethod
    def make(cls, root: Path, name: str = "server") -> Pki:
        root.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        issued = ca.issue_cert("127.0.0.1", "localhost")
        cert, key, ca_file = root / f"{name}.crt", root / f"{name}.key", root / f"{name}-ca.pem"
        for blob in issued.cert_chain_pems:
            blob.write_to_path(str(cert), append=True)
        issued.private_key_pem.write_to_path(str(key))
        ca.cert_pem.write_to_path(str(ca_file))
        return cls(root, ca, cert, key, ca_file)

    def client_context(self) -> ssl.SSLContext:
        """A client that trusts this CA only and checks the name."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def tls_config(pki: Pki, **limits: Any) -> Config:
    """make_config's, with the TLS port on an ephemeral port."""
    config = make_config(**limits)
    config.tls.cert, config.tls.key, config.tls.port = str(pki.cert), str(pki.key), 0
    return config


@asynccontextmanager
async def tls_server(pki: Pki, **limits: Any) -> AsyncIterator[ChatServer]:
    """An in-process server with a plaintext port and a TLS port (ephemeral both)."""
    server = ChatServer(tls_config(pki, **limits))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def tls_client(port: int, context: ssl.SSLContext) -> IrcClient:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                  limit=1 << 20)
    return IrcClient(reader, writer)


def need_openssl() -> str:
    """The openssl program, as a netcat user reaches a TLS port (`s_client -quiet`)."""
    return require_tool("openssl", apt="openssl")


class OpensslUser:
    """A person at `openssl s_client -quiet`: netcat over TLS, in a real subprocess."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def connect(cls, port: int) -> OpensslUser:
        proc = await asyncio.create_subprocess_exec(
            need_openssl(), "s_client", "-quiet", "-connect", f"127.0.0.1:{port}",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(proc)

    async def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def read_until(self, text: str, timeout: float = 5.0) -> list[str]:
        assert self.proc.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"EOF before {text!r}; got {lines}")
                lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                if text in lines[-1]:
                    return lines

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
