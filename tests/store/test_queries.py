"""CHATHISTORY answers, the same from both backends (IRCv3 draft/chathistory)."""

from __future__ import annotations

import asyncio
import random

import pytest
from store.storehelpers import BACKENDS, MakeStore, ask, entry

from chat_server.hub.history import (
    ALL_KINDS,
    Entry,
    Query,
    Ref,
    RefKind,
    Sub,
    TargetActivity,
)
from chat_server.store import Store

T0 = 1_700_000_000.0
STAR = Ref(RefKind.NONE)


def ts(seconds: float) -> Ref:
    return Ref(RefKind.TIMESTAMP, time=seconds)


def mid(n: int) -> Ref:
    return Ref(RefKind.MSGID, msgid=f"m{n}")


def ids(answer: list[Entry] | list[TargetActivity]) -> list[int]:
    return [int(e.msgid[1:]) for e in answer if isinstance(e, Entry)]


def fill(store: Store, count: int = 20) -> None:
    """m1..m<count>, one a second from T0 + 1."""
    for n in range(1, count + 1):
        store.record(entry(n, T0 + n))


async def test_latest_star_is_the_newest_oldest_first(store: Store) -> None:
    fill(store)
    assert ids(await ask(store, Query(Sub.LATEST, "#room", STAR, 5))) == [16, 17, 18, 19, 20]


@pytest.mark.parametrize("ref", [ts(T0 + 15), mid(15)], ids=["timestamp", "msgid"])
async def test_latest_with_a_bound_is_only_newer_than_it(store: Store, ref: Ref) -> None:
    fill(store)
    assert ids(await ask(store, Query(Sub.LATEST, "#room", ref, 3))) == [18, 19, 20]
    assert ids(await ask(store, Query(Sub.LATEST, "#room", ref, 50))) == [16, 17, 18, 19, 20]


@pytest.mark.parametrize("ref", [ts(T0 + 10), mid(10)], ids=["timestamp", "msgid"])
async def test_before_and_after_exclude_the_reference(store: Store, ref: Ref) -> None:
    fill(store)
    assert ids(await ask(store, Query(Sub.BEFORE, "#room", ref, 3))) == [7, 8, 9]
    assert ids(await ask(store, Query(Sub.AFTER, "#room", ref, 3))) == [11, 12, 13]


async def test_around_a_message_includes_it_and_both_sides(store: Store) -> None:
    fill(store)
    assert ids(await ask(store, Query(Sub.AROUND, "#room", mid(10), 5))) == [8, 9, 10, 11, 12]
    assert ids(await ask(store, Query(Sub.AROUND, "#room", mid(10), 1))) == [10]
    # A short side leaves its room to the other: still `limit` entries.
    assert ids(await ask(store, Query(Sub.AROUND, "#room", mid(2), 6))) == [1, 2, 3, 4, 5, 6]


async def test_around_a_time_splits_at_it(store: Store) -> None:
    fill(store)
    answer = await ask(store, Query(Sub.AROUND, "#room", ts(T0 + 10.5), 4))
    assert ids(answer) == [9, 10, 11, 12]


@pytest.mark.parametrize(("start", "end"), [
    (mid(5), mid(10)), (ts(T0 + 5), ts(T0 + 10)), (mid(5), ts(T0 + 10)), (ts(T0 + 5), mid(10)),
], ids=["msgids", "timestamps", "msgid-timestamp", "timestamp-msgid"])
async def test_between_excludes_both_ends_in_either_direction(
    store: Store, start: Ref, end: Ref,
) -> None:
    fill(store)
    forward = Query(Sub.BETWEEN, "#room", start, 10, end=end)
    assert ids(await ask(store, forward)) == [6, 7, 8, 9]
    backward = Query(Sub.BETWEEN, "#room", end, 10, end=start)
    assert ids(await ask(store, backward)) == [6, 7, 8, 9]
    # The limit counts from the first reference's side, the result is oldest first.
    assert ids(await ask(store, Query(Sub.BETWEEN, "#room", start, 2, end=end))) == [6, 7]
    assert ids(await ask(store, Query(Sub.BETWEEN, "#room", end, 2, end=start))) == [8, 9]


async def test_equal_timestamps_keep_the_order_they_were_recorded_in(store: Store) -> None:
    for n in range(1, 8):
        store.record(entry(n, T0))  # the same millisecond
    assert ids(await ask(store, Query(Sub.LATEST, "#room", STAR, 10))) == [1, 2, 3, 4, 5, 6, 7]
    assert ids(await ask(store, Query(Sub.BEFORE, "#room", mid(5), 2))) == [3, 4]
    assert ids(await ask(store, Query(Sub.AFTER, "#room", mid(5), 5))) == [6, 7]
    assert ids(await ask(store, Query(Sub.BETWEEN, "#room", mid(2), 9, end=mid(6)))) == [3, 4, 5]
    # A timestamp bound at that millisecond excludes all of them.
    assert ids(await ask(store, Query(Sub.AFTER, "#room", ts(T0), 9))) == []
    assert ids(await ask(store, Query(Sub.BEFORE, "#room", ts(T0 + 0.001), 9))) == [
        1, 2, 3, 4, 5, 6, 7]


async def test_an_unknown_msgid_gives_nothing(store: Store) -> None:
    fill(store)
    store.record(entry(99, T0 + 5, target="#other"))
    for sub in (Sub.LATEST, Sub.BEFORE, Sub.AFTER, Sub.AROUND):
        assert await ask(store, Query(sub, "#room", mid(12345), 10)) == []
        # A msgid of another target is unknown in this one.
        assert await ask(store, Query(sub, "#room", mid(99), 10)) == []
    assert await ask(store, Query(Sub.BETWEEN, "#room", mid(3), 10, end=mid(12345))) == []
    assert await ask(store, Query(Sub.LATEST, "#nowhere", STAR, 10)) == []


async def test_kinds_are_filtered_before_the_limit(store: Store) -> None:
    for i in range(30):
        store.record(entry(i + 1, T0 + i, kind="JOIN" if i % 3 else "PRIVMSG"))
    messages = await ask(store, Query(Sub.LATEST, "#room", STAR, 5))
    assert len(messages) == 5
    assert {e.kind for e in messages if isinstance(e, Entry)} == {"PRIVMSG"}
    everything = await ask(store, Query(Sub.LATEST, "#room", STAR, 5, kinds=ALL_KINDS))
    assert ids(everything) == [26, 27, 28, 29, 30]
    before = await ask(store, Query(Sub.BEFORE, "#room", mid(30), 4))
    assert len(before) == 4
    assert all(e.kind == "PRIVMSG" for e in before if isinstance(e, Entry))


async def test_paging_backwards_sees_every_entry_exactly_once(store: Store) -> None:
    for n in range(1, 1001):
        store.record(entry(n, T0 + n // 7))  # runs of equal timestamps across pages
    seen: list[int] = []
    page = await ask(store, Query(Sub.LATEST, "#room", STAR, 100))
    while page:
        seen[:0] = ids(page)
        first = page[0]
        assert isinstance(first, Entry)
        page = await ask(store, Query(Sub.BEFORE, "#room", mid(int(first.msgid[1:])), 100))
    assert seen == list(range(1, 1001))


async def test_limits_are_guarded(make_store: MakeStore) -> None:
    for backend in BACKENDS:
        store = make_store(backend, history_chathistory_max=3)
        store.start(asyncio.get_running_loop())
        fill(store)
        assert ids(await ask(store, Query(Sub.LATEST, "#room", STAR, 100))) == [18, 19, 20]
        assert await ask(store, Query(Sub.LATEST, "#room", STAR, 0)) == []
        assert await ask(store, Query(Sub.LATEST, "#room", STAR, -5)) == []


async def test_targets_lists_conversations_by_their_latest_time(store: Store) -> None:
    store.record(entry(1, T0 + 1, target="#a"))
    store.record(entry(2, T0 + 5, target="#a"))
    store.record(entry(3, T0 + 3, target="#b"))
    store.record(entry(4, T0 + 4, target="al bo"))
    store.record(entry(5, T0 + 50, target="#late"))
    store.record(entry(6, T0 + 2, target="#secret"))
    keys = ("#a", "#b", "al bo", "#late", "#never")  # not "#secret": not readable

    async def targets(start: float, end: float, limit: int) -> list[tuple[str, float]]:
        answer = await ask(store, Query(Sub.TARGETS, "", ts(start), limit, end=ts(end),
                                        targets=keys))
        return [(row.target, row.time) for row in answer if isinstance(row, TargetActivity)]

    assert await targets(T0, T0 + 10, 10) == [
        ("#b", T0 + 3), ("al bo", T0 + 4), ("#a", T0 + 5)]
    # Strictly between, by the latest entry: #a's is at the end, so #a has moved on past
    # this window (its first message inside it does not count).
    assert await targets(T0, T0 + 5, 10) == [("#b", T0 + 3), ("al bo", T0 + 4)]
    # Counted from the first timestamp's side, returned oldest first.
    assert await targets(T0, T0 + 10, 2) == [("#b", T0 + 3), ("al bo", T0 + 4)]
    assert await targets(T0 + 100, T0, 2) == [("#a", T0 + 5), ("#late", T0 + 50)]


async def test_targets_finds_the_askers_conversations_the_hub_does_not_know(
    store: Store,
) -> None:
    store.record(entry(1, T0 + 1, target="al bo"))
    store.record(entry(2, T0 + 2, target="al zed", nick="zed"))  # zed is offline
    store.record(entry(3, T0 + 3, target="bo cy"))  # not al's
    store.record(entry(4, T0 + 4, target="#a"))
    query = Query(Sub.TARGETS, "", ts(T0), 10, end=ts(T0 + 10), targets=("#a",), parties=("al",))
    answer = await ask(store, query)
    assert [(row.target, row.time) for row in answer if isinstance(row, TargetActivity)] == [
        ("al bo", T0 + 1), ("al zed", T0 + 2), ("#a", T0 + 4)]
    await asyncio.to_thread(lambda: store.purge(nick="zed"))
    answer = await ask(store, query)
    assert [row.target for row in answer if isinstance(row, TargetActivity)] == ["al bo", "#a"]


async def test_conversations_kept_by_account_are_found_and_purged_by_that_name(
    store: Store,
) -> None:
    store.record(entry(1, T0 + 1, target="al bo"))
    store.record(entry(2, T0 + 2, target="~al ~bo", nick="bob"))  # by account
    store.record(entry(3, T0 + 3, target="~bo ~cy", nick="bob"))  # not al's
    query = Query(Sub.TARGETS, "", ts(T0), 10, end=ts(T0 + 10), parties=("al", "~al"))
    answer = await ask(store, query)
    assert [row.target for row in answer if isinstance(row, TargetActivity)] == [
        "al bo", "~al ~bo"]
    # Purging a nick takes the conversations of the account of that name too, both sides.
    await asyncio.to_thread(lambda: store.purge(nick="al"))
    everyone = Query(Sub.TARGETS, "", ts(T0), 10, end=ts(T0 + 10), parties=("~bo",))
    answer = await ask(store, everyone)
    assert [row.target for row in answer if isinstance(row, TargetActivity)] == ["~bo ~cy"]


async def test_both_backends_give_the_same_answers(make_store: MakeStore) -> None:
    """Random histories and random questions: memory and SQLite agree on every one."""
    rnd = random.Random(1234)
    loop = asyncio.get_running_loop()
    stores = [make_store(backend) for backend in BACKENDS]
    for s in stores:
        s.start(loop)
    targets = ["#a", "#b", "al bo"]
    kinds = sorted(["PRIVMSG", "NOTICE", "JOIN", "PART", "TOPIC"])
    for n in range(1, 601):
        recorded = Entry(rnd.choice(targets), f"m{n}", T0 + rnd.randrange(0, 120) / 4,
                         rnd.choice(kinds), f"n{n % 5}!u@h", ("x", str(n)))
        for s in stores:
            s.record(recorded)

    def ref() -> Ref:
        if rnd.random() < 0.5:
            return mid(rnd.randrange(1, 620))
        return ts(T0 + rnd.randrange(-4, 130) / 4)

    for _ in range(400):
        sub = rnd.choice(list(Sub))
        chosen = frozenset(rnd.sample(kinds, rnd.randrange(1, len(kinds) + 1)))
        limit = rnd.randrange(1, 40)
        start = STAR if sub is Sub.LATEST and rnd.random() < 0.3 else ref()
        if sub is Sub.TARGETS:
            query = Query(sub, "", ts(T0 + rnd.randrange(0, 130) / 4), limit, chosen,
                          ts(T0 + rnd.randrange(0, 130) / 4),
                          tuple(rnd.sample(targets, rnd.randrange(0, 3))),
                          rnd.choice(["", "al", "bo", "cy"]))
        else:
            query = Query(sub, rnd.choice(targets), start, limit, chosen,
                          ref() if sub is Sub.BETWEEN else None)
        memory, sqlite = [await ask(s, query) for s in stores]
        assert memory == sqlite, query
    assert len(await ask(stores[1], Query(Sub.LATEST, "#a", STAR, 1000, ALL_KINDS))) > 100


async def test_retention_prunes_by_age_and_by_count(make_store: MakeStore) -> None:
    now = T0 + 10 * 86400
    for backend in BACKENDS:
        store = make_store(backend, history_max_age=2.0, history_max_per_target=5)
        store.start(asyncio.get_running_loop())
        for n in range(1, 11):
            store.record(entry(n, now - 3 * 86400 + n))  # older than two days
        for n in range(11, 21):
            store.record(entry(n, now - 60 + n))
        store.record(entry(21, now - 5, target="#small"))
        # What was recorded is there until retention runs ...
        assert len(await ask(store, Query(Sub.LATEST, "#room", STAR, 100))) == 20
        await asyncio.to_thread(store.prune, now)
        assert ids(await ask(store, Query(Sub.LATEST, "#room", STAR, 100))) == [16, 17, 18, 19, 20]
        assert ids(await ask(store, Query(Sub.LATEST, "#small", STAR, 100))) == [21]
        assert await ask(store, Query(Sub.AROUND, "#room", mid(3), 10)) == []


async def test_purge_removes_a_room_a_nick_or_what_is_older(make_store: MakeStore) -> None:
    for backend in BACKENDS:
        store = make_store(backend)
        store.start(asyncio.get_running_loop())
        for n in range(1, 11):
            store.record(entry(n, T0 + n, nick="al" if n % 2 else "Bo"))
        store.record(entry(11, T0 + 11, target="al cy", nick="cy"))
        store.record(entry(12, T0 + 12, target="#gone"))
        assert await asyncio.to_thread(lambda s=store: s.purge(target="#gone")) == 1
        assert await ask(store, Query(Sub.LATEST, "#gone", STAR, 10)) == []
        # What al said, and al's private conversations, whoever spoke in them.
        assert await asyncio.to_thread(lambda s=store: s.purge(nick="al")) == 6
        assert ids(await ask(store, Query(Sub.LATEST, "#room", STAR, 10))) == [2, 4, 6, 8, 10]
        assert await ask(store, Query(Sub.LATEST, "al cy", STAR, 10)) == []
        assert await asyncio.to_thread(lambda s=store: s.purge(before=T0 + 6.5)) == 3
        assert ids(await ask(store, Query(Sub.LATEST, "#room", STAR, 10))) == [8, 10]
        assert [e.msgid for e in store.recent("#room", 10)] == ["m8", "m10"]
