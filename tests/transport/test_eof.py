"""A client that sends its lines and half-closes (a script piped into nc) is answered
in full before the connection ends."""

from __future__ import annotations

from support.clients import server_and_clients


async def test_a_login_then_chat_piped_in_one_go_is_all_run_and_answered() -> None:
    async with server_and_clients() as (_, connect):
        bob = await connect("bob")
        await bob.join("#room")
        maker = await connect("alice")
        await maker.send("PRIVMSG NickServ :REGISTER sesame-seed")
        await maker.expect(r" 900 alice ")
        await maker.send("QUIT")
        await maker.at_eof()
        await maker.close()

        # Everything at once, then EOF: the IDENTIFY's password check runs off the
        # loop, and what follows it waits for it rather than being thrown away.
        script = await connect()
        await script.send_raw(b"NICK alice\r\nUSER a 0 * :Alice\r\n"
                              b"PRIVMSG NickServ :IDENTIFY sesame-seed\r\n"
                              b"JOIN #room\r\nPRIVMSG #room :hello from a script\r\n")
        script.writer.write_eof()
        lines = await script.at_eof()
        assert any(" 900 alice " in line for line in lines), lines
        assert any(line.endswith("JOIN #room") or " JOIN #room" in line for line in lines)
        await bob.expect(r"^:alice!\S+ PRIVMSG #room :hello from a script$")
        await bob.expect(r"^:alice!\S+ QUIT :")
        await script.close()
