"""Counts typed as other Unicode digits ("²", "٣") get the answer any bad count gets."""

from __future__ import annotations

from support.irc import ClientFactory


async def test_cap_ls_with_a_superscript_version_still_lists_the_caps(
    connect: ClientFactory,
) -> None:
    client = await connect()
    await client.send("CAP LS ²")
    ls = await client.expect(r" CAP \* LS ")
    assert "batch" in ls.params[-1].split()


async def test_whowas_and_mode_limit_answer_a_unicode_count(connect: ClientFactory) -> None:
    alice = await connect("alice")
    await alice.send("WHOWAS nobody ٣")
    await alice.expect(r" 406 alice nobody ")
    await alice.join("#dev")
    await alice.send("MODE #dev +l ²")
    await alice.expect(r" 696 alice #dev l ² ")
