"""Protected nicks over real sockets: under "enforce" someone on a registered nick
without its account is warned, then renamed to a guest nick once the grace time has
passed, unless they log in first; under "strict" the nick is refused (433) until they
have logged in."""

from __future__ import annotations

from support.clients import server_and_clients
from support.irc import ClientFactory

PASSWORD = "protect-me-please"
GUEST = r"Guest\d+"
# How long an answer that waits for password work (argon2id, in a thread) may take on
# a loaded machine.
SLOW = 20.0


def from_nickserv(pattern: str) -> str:
    return rf"^:NickServ!NickServ@\S+ NOTICE \S+ :.*{pattern}"


async def make_account(connect: ClientFactory, nick: str) -> None:
    """Register `nick` as an account and leave, so the nick is free but protected."""
    owner = await connect(nick)
    await owner.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    await owner.expect(r" 900 ", timeout=SLOW)
    await owner.send("QUIT")
    await owner.at_eof()


async def test_enforce_renames_after_the_grace_unless_one_logs_in() -> None:
    # Long enough for alice's IDENTIFY (argon2id) to finish on a loaded machine.
    async with server_and_clients(accounts_login_grace=3.0) as (_, connect):
        for nick in ("alice", "dave", "erin"):
            await make_account(connect, nick)

        # Arrives on a registered nick and logs in within the grace: keeps it.
        alice = await connect()
        await alice.register("alice")
        await alice.expect(from_nickserv(r"This nickname is registered\. Log in within 3 "
                                         r"seconds"))
        await alice.send(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}")

        # Arrives after alice and never logs in: renamed, and told why first.
        squatter = await connect()
        await squatter.register("dave")
        await squatter.expect(from_nickserv("This nickname is registered"))
        # Moving onto a registered nick once connected starts the same grace.
        mover = await connect("mover")
        await mover.send("NICK erin")
        await mover.expect(r"^:mover!\S+ NICK :?erin$")
        await mover.expect(from_nickserv("This nickname is registered"))

        await alice.expect(r" 900 alice ", timeout=SLOW)
        why = await squatter.expect(from_nickserv("dave is a registered nickname and you "
                                                  "did not log in to it within 3 seconds,"),
                                    timeout=SLOW)
        renamed = await squatter.expect(rf"^:dave!\S+ NICK :?{GUEST}$")
        assert why.source and renamed.params[0].startswith("Guest")
        await squatter.send("PING :after-rename")
        await squatter.expect(r"PONG \S+ :?after-rename")
        await mover.expect(rf"^:erin!\S+ NICK :?{GUEST}$", timeout=SLOW)

        # alice's grace began before dave's ended: her timer has fired, and she is alice.
        await alice.send("PING :kept")
        await alice.expect(r"PONG \S+ :?kept")
        assert not any(" NICK " in line for line in alice.seen), alice.seen


async def test_renamed_people_can_take_the_nick_back_by_logging_in() -> None:
    async with server_and_clients(accounts_login_grace=0.5) as (_, connect):
        await make_account(connect, "frida")
        frida = await connect()
        await frida.register("frida")
        renamed = await frida.expect(rf" NICK :?{GUEST}$")
        mark = len(frida.seen)
        await frida.send(f"PRIVMSG NickServ :IDENTIFY frida {PASSWORD}")
        await frida.expect(rf" 900 {renamed.params[0]} ", timeout=SLOW)
        await frida.send("NICK frida")
        await frida.expect(rf"^:{renamed.params[0]}!\S+ NICK :?frida$")
        # Logged in: no warning and no rename this time.
        await frida.send("PING :settled")
        await frida.expect(r"PONG \S+ :?settled")
        assert not any("This nickname is registered" in line for line in frida.seen[mark:])


async def test_strict_refuses_a_registered_nick_at_registration_and_on_nick() -> None:
    async with server_and_clients(accounts_nick_protection="strict") as (_, connect):
        await make_account(connect, "gwen")
        stranger = await connect()
        await stranger.send("NICK gwen")
        await stranger.send("USER u 0 * :Stranger")
        refused = await stranger.expect(r" 433 ")
        assert refused.params[1] == "gwen" and "registered" in refused.params[-1]
        await stranger.send("NICK stranger")
        await stranger.expect(r" 001 stranger ")
        await stranger.send("NICK gwen")
        again = await stranger.expect(r" 433 ")
        assert again.params[1] == "gwen"
        # The account's owner, logged in, may take it.
        await stranger.send(f"NS IDENTIFY gwen {PASSWORD}")
        await stranger.expect(r" 900 stranger ", timeout=SLOW)
        await stranger.send("NICK gwen")
        await stranger.expect(r"^:stranger!\S+ NICK :?gwen$")
        assert not any("This nickname is registered" in line for line in stranger.seen)


async def test_off_leaves_a_registered_nick_alone() -> None:
    async with server_and_clients(accounts_nick_protection="off") as (_, connect):
        await make_account(connect, "hana")
        other = await connect("hana")
        await other.send("NS INFO hana")
        await other.expect(from_nickserv("is in use by someone not logged in to it"))
        assert not any("This nickname is registered" in line for line in other.seen)
