"""The recent lines kept in memory for replay on join: bounded per target and in
targets, newest kept, filtered by kind."""

from __future__ import annotations

from store.storehelpers import entry

from chat_server.hub.history import ALL_KINDS, MESSAGE_KINDS, Entry
from chat_server.store.base import RecentCache

T0 = 1_700_000_000.0


def msgids(entries: list[Entry]) -> list[str]:
    return [e.msgid for e in entries]


def test_each_target_keeps_its_newest_lines_only() -> None:
    cache = RecentCache(per_target=3, max_targets=10)
    for n in range(1, 8):
        cache.add(entry(n, T0 + n))
    assert msgids(cache.get("#room", 10, MESSAGE_KINDS)) == ["m5", "m6", "m7"]
    assert msgids(cache.get("#room", 2, MESSAGE_KINDS)) == ["m6", "m7"]


def test_only_messages_are_kept_and_the_limit_counts_what_is_returned() -> None:
    """Replay shows messages only: room events are not held (nor do they push
    messages out of the per-target bound)."""
    cache = RecentCache(per_target=3, max_targets=10)
    for n in range(1, 7):
        cache.add(entry(n, T0 + n, kind="JOIN" if n % 2 else "PRIVMSG"))
    assert msgids(cache.get("#room", 2, MESSAGE_KINDS)) == ["m4", "m6"]
    assert msgids(cache.get("#room", 10, ALL_KINDS)) == ["m2", "m4", "m6"]
    cache.add(entry(7, T0 + 7, target="#quiet", kind="JOIN"))
    assert cache.get("#quiet", 10, ALL_KINDS) == []


def test_the_least_recently_used_target_is_forgotten_first() -> None:
    cache = RecentCache(per_target=5, max_targets=2)
    cache.add(entry(1, T0, target="#a"))
    cache.add(entry(2, T0, target="#b"))
    cache.get("#a", 5, MESSAGE_KINDS)  # #a used again: #b is now the oldest
    cache.add(entry(3, T0, target="#c"))
    assert msgids(cache.get("#a", 5, MESSAGE_KINDS)) == ["m1"]
    assert cache.get("#b", 5, MESSAGE_KINDS) == []
    assert msgids(cache.get("#c", 5, MESSAGE_KINDS)) == ["m3"]


def test_warming_adds_the_newest_older_lines_that_fit() -> None:
    cache = RecentCache(per_target=4, max_targets=10)
    cache.add(entry(10, T0 + 10))
    cache.add(entry(11, T0 + 11))
    cache.fill("#room", [entry(n, T0 + n, kind="PART" if n == 9 else "PRIVMSG")
                         for n in range(1, 10)])
    assert msgids(cache.get("#room", 10, MESSAGE_KINDS)) == ["m7", "m8", "m10", "m11"]


def test_retention_trims_from_the_old_end() -> None:
    cache = RecentCache(per_target=10, max_targets=10)
    for n in range(1, 6):
        cache.add(entry(n, T0 + n))
    cache.add(entry(9, T0 + 1, target="#old"))
    cache.trim_before(round((T0 + 3) * 1000))
    assert msgids(cache.get("#room", 10, MESSAGE_KINDS)) == ["m3", "m4", "m5"]
    assert cache.get("#old", 10, MESSAGE_KINDS) == []


def test_nothing_is_kept_when_turned_off() -> None:
    cache = RecentCache(per_target=0, max_targets=10)
    cache.add(entry(1, T0))
    assert cache.get("#room", 5, MESSAGE_KINDS) == []


def test_a_line_applied_twice_is_kept_once_until_it_has_gone() -> None:
    """A cluster log read anew applies lines again: the same msgid shows once. Once the
    first copy has left the cache (pushed out, trimmed, its target forgotten), a copy
    applied again is a line the cache does not hold, and is kept."""
    cache = RecentCache(per_target=3, max_targets=2)
    for n in range(1, 4):
        cache.add(entry(n, T0))  # one millisecond: the stamp of one burst
    cache.add(entry(2, T0))
    assert msgids(cache.get("#room", 10, MESSAGE_KINDS)) == ["m1", "m2", "m3"]
    cache.add(entry(4, T0))  # m1 pushed out
    cache.add(entry(1, T0))
    assert msgids(cache.get("#room", 10, MESSAGE_KINDS)) == ["m3", "m4", "m1"]
    cache.trim_before(round((T0 + 1) * 1000))  # everything goes
    cache.add(entry(3, T0))
    assert msgids(cache.get("#room", 10, MESSAGE_KINDS)) == ["m3"]
    cache.add(entry(5, T0, target="#a"))
    cache.add(entry(6, T0, target="#b"))  # #room forgotten
    cache.add(entry(3, T0, target="#a"))
    cache.forget(lambda e: e.msgid != "m5")
    cache.add(entry(5, T0, target="#a"))
    cache.add(entry(3, T0, target="#a"))
    assert msgids(cache.get("#a", 10, MESSAGE_KINDS)) == ["m3", "m5"]
