"""`chat-server cluster status`: the network's nodes, their people and how far behind
each one reads, from Redis alone (a node need not run on this machine).

Reads the keys chat_server/cluster/log.py writes; changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from chat_server.cluster import ClusterError
from chat_server.cluster.log import Keys, _text
from chat_server.config import ClusterSection

# Entries counted at most when saying how far behind a node is.
BEHIND_MAX = 100000


def _behind(client: redis.Redis, key: str, applied: str) -> str:
    if not applied or applied == "0-0":
        applied = "0-0"
    entries = client.xrange(key, f"({applied}", "+", count=BEHIND_MAX)
    count = len(entries or [])
    return f"{count}+" if count == BEHIND_MAX else str(count)


def report(settings: ClusterSection, network: str) -> str:
    """The status as lines of text (ClusterError when Redis cannot be read)."""
    keys = Keys(settings.prefix)
    where = f"Redis at {settings.redis} (prefix {settings.prefix!r})"
    try:
        client = redis.Redis.from_url(settings.redis, socket_connect_timeout=3,
                                      socket_timeout=10)
        try:
            return _report(client, keys, where, network)
        finally:
            client.close()
    except ValueError as exc:
        raise ClusterError(f"[cluster] redis = {settings.redis!r}: {exc}") from None
    except redis.RedisError as exc:
        raise ClusterError(f"cannot read {where}: {exc}") from None


def _report(client: redis.Redis, keys: Keys, where: str, network: str) -> str:
    seconds, micros = client.time()
    now_ms = seconds * 1000 + micros // 1000
    alive: list[Any] = list(client.zrange(keys.alive, 0, -1, withscores=True))
    about = {_text(k): json.loads(v) for k, v in client.hgetall(keys.nodes).items()}
    length = client.xlen(keys.log)
    meta = {_text(k): _text(v) for k, v in client.hgetall(keys.meta).items()}
    lines = [f"network {meta.get('network', network)!r} in {where}: {len(alive)} node"
             f"{'s' if len(alive) != 1 else ''}, log of {length} entries, epoch "
             f"{_text(client.get(keys.epoch)) or '(none)'}"]
    if not alive:
        lines.append("no node is running")
    rows = [("NODE", "ID", "HEARTBEAT", "USERS", "BEHIND")]
    people: list[str] = []
    for raw_id, score in alive:
        node = _text(raw_id)
        info = about.get(node, {})
        name = str(info.get("name", "?"))
        users = info.get("users", [])
        rows.append((name, node, f"{(now_ms - score) / 1000:.1f}s ago",
                     str(info.get("count", len(users))),
                     _behind(client, keys.log, str(info.get("applied", ""))) + " entries"))
        if users:
            people.append(f"  {name}: {', '.join(map(str, users))}")
    if alive:
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                  for row in rows]
        lines += people
    return "\n".join(lines)
