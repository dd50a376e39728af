"""With [tls] configured, the web port speaks HTTPS and wss:// with the same certificate."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.tls import Pki, tls_config
from support.tools import require_tool
from support.web import DEPLOY_TOKEN, write_tokens
from websockets.asyncio.client import connect

from chat_server.app import ChatServer


async def test_https_page_posting_and_wss(tmp_path: Path) -> None:
    curl = require_tool("curl", apt="curl")
    pki = Pki.make(tmp_path)
    config = tls_config(pki)
    config.web.listen = "127.0.0.1:0"
    config.web.tokens_file = str(write_tokens(tmp_path))
    server = ChatServer(config)
    await server.start()
    try:
        host, port = server.web_addresses[0]
        assert server.web_url() == f"https://{host}:{port}/"
        protocols = ["text.ircv3.net"]
        async with connect(f"wss://127.0.0.1:{port}/", subprotocols=protocols,  # type: ignore[arg-type]
                           ssl=pki.client_context()) as ws:
            await ws.send("NICK secure")
            await ws.send("USER s 0 * :s")
            await ws.send("JOIN #lobby")
            async with asyncio.timeout(5):
                while " 366 " not in str(await ws.recv()):
                    pass
            proc = await asyncio.create_subprocess_exec(
                curl, "-sS", "--cacert", str(pki.ca_file), "-o", "/dev/null",
                "-w", "%{http_code}", "-H", f"Authorization: Bearer {DEPLOY_TOKEN}",
                "--data-binary", "over https",
                f"https://127.0.0.1:{port}/api/rooms/lobby/messages",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 15)
            assert out == b"201", err
            async with asyncio.timeout(5):
                while True:
                    line = str(await ws.recv())
                    if " PRIVMSG #lobby " in line:
                        break
            assert line.startswith(":deploybot!") and line.endswith(":over https")
    finally:
        await server.stop()
