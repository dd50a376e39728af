"""The cluster log: the hub's facts through one Redis Stream, applied on every node in
stream order.

Owns the Redis keys under `[cluster] prefix` (P):

* `P:log`    the stream of facts, field `f` = `facts.encode(fact)`; stream IDs are the
             network-wide order.
* `P:meta`   hash: `network` and `version`, so that a Redis holding another network's
             data under this prefix, or a log of another version, is refused.
* `P:epoch`  random, `SET NX`: a different (or missing) one means the log this node knew
             is gone (Redis restarted); every node then announces its own people again.
* `P:alive`  sorted set: node id -> its last heartbeat, in Redis `TIME` milliseconds, so
             the machines' clocks do not matter. One Lua script run by every node at
             each heartbeat removes a node silent for `node_timeout` and appends exactly
             one NodeDown for it.
* `P:nodes`  hash: node id -> JSON {name, pid, users, applied}, for `cluster status`.
* `P:snapshot` hash: `id` (the last entry it reflects), `epoch`, `data` (hub/snapshot.py).
             Every `snapshot_every` entries a node writes one if it is newer than the
             one there and trims the stream behind it (and behind the slowest live
             node's applied entry, which heartbeats report); a late node loads it and reads
             the log after it.

Knows the hub (it feeds `Hub.apply_logged` and receives facts through `Hub.attach`) and
Redis; never runs hub code but on the event loop, in the order entries were read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections import deque
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat_server.cluster import ClusterError
from chat_server.config import ClusterSection
from chat_server.hub.events import ServerMessage
from chat_server.hub.facts import (
    LOG_VERSION,
    BadEntry,
    Fact,
    NodeDown,
    RoomJoined,
    Said,
    UserArrived,
    decode,
    encode,
    tag_of,
)
from chat_server.hub.hub import Hub
from chat_server.hub.snapshot import dump, load
from chat_server.protocol.message import Message

log = logging.getLogger("chat_server.cluster")

# Errors that mean Redis cannot be reached just now (as opposed to a refused command).
LOST = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)
SPLIT_REASON = "*.net *.split"
LEAVE_REASON = "Server shutting down"
_CONNECT_TIMEOUT = 3.0
_BACKOFF_MAX = 2.0

_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
for _, node in ipairs(dead) do
  redis.call('ZREM', KEYS[1], node)
  redis.call('HDEL', KEYS[3], node)
  redis.call('XADD', KEYS[2], '*', 'f',
             ARGV[3] .. node .. ARGV[4] .. string.format('%.3f', now / 1000) .. ']')
end
return {redis.call('GET', KEYS[4]) or '', dead, redis.call('ZRANGE', KEYS[1], 0, -1)}
"""

# Keep a snapshot only if it is newer than the one stored, then trim the log behind it,
# but never past an entry another live node has not applied yet (its last heartbeat
# says how far it was): a node that lags would otherwise read on after a hole and miss
# what was in it.
_SNAPSHOT = """
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(am, as, bm, bs)
  return am < bm or (am == bm and as < bs)
end
local cur = redis.call('HGET', KEYS[1], 'id')
if cur and redis.call('HGET', KEYS[1], 'epoch') == ARGV[2] then
  local cm, cs = parts(cur)
  local nm, ns = parts(ARGV[1])
  if not before(cm, cs, nm, ns) then return 0 end
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'epoch', ARGV[2], 'data', ARGV[3])
local keep = ARGV[1]
local km, ks = parts(keep)
local nodes = redis.call('HGETALL', KEYS[3])
for i = 1, #nodes, 2 do
  if nodes[i] ~= ARGV[4] and redis.call('ZSCORE', KEYS[4], nodes[i]) then
    local ok, about = pcall(cjson.decode, nodes[i + 1])
    if ok and type(about) == 'table' and type(about['applied']) == 'string' then
      local am, as = parts(about['applied'])
      if am and before(am, as, km, ks) then keep, km, ks = about['applied'], am, as end
    end
  end
end
redis.call('XTRIM', KEYS[2], 'MINID', keep)
return 1
"""


def node_name(settings: ClusterSection) -> str:
    return settings.node or f"{socket.gethostname()}-{os.getpid()}"


class Keys:
    def __init__(self, prefix: str) -> None:
        self.log = f"{prefix}:log"
        self.meta = f"{prefix}:meta"
        self.epoch = f"{prefix}:epoch"
        self.alive = f"{prefix}:alive"
        self.nodes = f"{prefix}:nodes"
        self.snapshot = f"{prefix}:snapshot"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")


def check_meta(meta: dict[Any, Any], network: str, where: str) -> None:
    """Refuse a Redis that holds another network's log, or a log of another version."""
    found = {_text(k): _text(v) for k, v in meta.items()}
    if found.get("network", network) != network:
        raise ClusterError(
            f"{where} holds the log of network {found['network']!r}, not {network!r}: "
            "set [cluster] prefix to keep networks apart")
    if found.get("version", str(LOG_VERSION)) != str(LOG_VERSION):
        raise ClusterError(
            f"{where} holds a log of version {found['version']}; this server reads "
            f"version {LOG_VERSION}")


def check_redis(settings: ClusterSection, network: str) -> None:
    """Before detaching: Redis answers and may be used for this network (ClusterError)."""
    where = f"Redis at {settings.redis} (prefix {settings.prefix!r})"
    try:
        client = redis.Redis.from_url(settings.redis, socket_connect_timeout=_CONNECT_TIMEOUT,
                                      socket_timeout=_CONNECT_TIMEOUT)
        try:
            client.ping()
            check_meta(client.hgetall(Keys(settings.prefix).meta), network, where)
        finally:
            client.close()
    except ValueError as exc:
        raise ClusterError(f"[cluster] redis = {settings.redis!r}: {exc}") from None
    except RedisError as exc:
        raise ClusterError(f"cannot reach {where}: {exc}") from None


class RedisLog:
    """This node's side of the log: writes the hub's facts, reads everyone's back."""

    def __init__(self, hub: Hub, settings: ClusterSection, network: str) -> None:
        self.hub = hub
        self.settings = settings
        self.network = network
        self.name = node_name(settings)
        self.keys = Keys(settings.prefix)
        self.where = f"Redis at {settings.redis} (prefix {settings.prefix!r})"
        self.client: aioredis.Redis | None = None
        self.reader: aioredis.Redis | None = None
        self.epoch = ""
        self.last_id = "0-0"
        self.applied = 0
        self.down = False
        self.closing = False
        self._queue: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._recovering = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._heartbeat: Any = None
        self._snapshot_script: Any = None
        self._snapped = 0  # self.applied when the last snapshot was taken
        self._alive: set[str] = set()  # node ids in the last heartbeat's answer
        self._snapshotting: asyncio.Task[None] | None = None
        self._down_head = f'[{LOG_VERSION},{tag_of(NodeDown)},"'
        self._down_tail = '",' + json.dumps(SPLIT_REASON) + ","

    # -- start and stop --------------------------------------------------------------

    async def open(self) -> None:
        """Connect, check the network and version, and catch up with the whole log
        before this node serves anyone (ClusterError when Redis cannot be used)."""
        try:
            self.client = aioredis.from_url(self.settings.redis,
                                            socket_connect_timeout=_CONNECT_TIMEOUT)
            self.reader = aioredis.from_url(self.settings.redis,
                                            socket_connect_timeout=_CONNECT_TIMEOUT)
            await self.client.ping()
            self._heartbeat = self.client.register_script(_HEARTBEAT)
            self._snapshot_script = self.client.register_script(_SNAPSHOT)
            await self._join_epoch()
            while await self.client.zscore(self.keys.alive, self.hub.node) is not None:
                # Another live node drew the same random id (before anyone connects).
                self.hub.node = self.hub._msgid_prefix = os.urandom(4).hex()
            await self._beat()
            started = time.monotonic()
            await self._load_snapshot()
            await self._catch_up()
        except ValueError as exc:
            raise ClusterError(f"[cluster] redis = {self.settings.redis!r}: {exc}") from None
        except RedisError as exc:
            raise ClusterError(f"cannot reach {self.where}: {exc}") from None
        log.info("node %s (%s) joined the network through %s: %s%d log entries applied "
                 "in %.2fs", self.hub.node, self.name, self.where,
                 "a snapshot and " if self._snapped else "", self.applied - self._snapped,
                 time.monotonic() - started)
        self.hub.attach(self.send)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read_loop()), loop.create_task(self._write_loop()),
                       loop.create_task(self._beat_loop())]

    async def close(self) -> None:
        """Leave the network: everyone else sees this node's people quit at once."""
        self.closing = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A task that Redis's client answers a cancel for with a lost connection
            # sees `closing` and ends too.
            await asyncio.wait(self._tasks, timeout=2)
        if self.client is None:
            return
        try:
            await self._xadd([data for data in self._queue] + [encode(
                NodeDown(self.hub.node, LEAVE_REASON, self.hub.stamp()))])
            await self.client.zrem(self.keys.alive, self.hub.node)
            await self.client.hdel(self.keys.nodes, self.hub.node)
        except (*LOST, RedisError) as exc:
            log.warning("could not tell the network this node leaves: %s", exc)
        for client in (self.client, self.reader):
            if client is not None:
                await client.aclose()

    # -- writing -----------------------------------------------------------------------

    def send(self, fact: Fact) -> None:
        """The hub's emit: queue the fact for the log (never waits)."""
        if len(self._queue) >= self.settings.queue_max and isinstance(fact, Said):
            return  # not acknowledged: the sender never sees it come back
        self._queue.append(encode(fact))
        self._wake.set()

    async def _xadd(self, batch: list[bytes]) -> None:
        assert self.client is not None
        pipe = self.client.pipeline(transaction=False)
        for data in batch:
            pipe.xadd(self.keys.log, {"f": data})
        await pipe.execute()

    async def _write_loop(self) -> None:
        while not self.closing:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch = [self._queue.popleft()
                         for _ in range(min(len(self._queue), self.settings.read_batch))]
                while True:
                    try:
                        await self._xadd(batch)
                        break
                    except LOST as exc:
                        await self._lost(exc)

    # -- reading -----------------------------------------------------------------------

    async def _catch_up(self) -> None:
        assert self.reader is not None
        while True:
            got = await self.reader.xread({self.keys.log: self.last_id},
                                          count=self.settings.read_batch)
            if not got:
                return
            self._apply_batch(got)

    async def _read_loop(self) -> None:
        assert self.reader is not None
        while not self.closing:
            try:
                got = await self.reader.xread({self.keys.log: self.last_id},
                                              count=self.settings.read_batch, block=1000)
            except LOST as exc:
                await self._lost(exc)
                continue
            if got:
                self._apply_batch(got)
                self._maybe_snapshot()

    async def _load_snapshot(self) -> None:
        assert self.client is not None
        stored = {_text(k): v for k, v in (await self.client.hgetall(self.keys.snapshot)).items()}
        if not stored or _text(stored.get("epoch")) != self.epoch:
            return
        try:
            load(self.hub, json.loads(stored["data"]))
        except (ValueError, KeyError) as exc:
            log.warning("snapshot at %s not used (%s): reading the whole log", self.where, exc)
            self.hub.users.clear()
            self.hub.rooms.clear()
            self.hub.by_uid.clear()
            self.hub.hosts.clear()
            self.hub.invisible = 0
            return
        self.last_id = _text(stored["id"])
        self._snapped = self.applied = 1

    def _maybe_snapshot(self) -> None:
        """Every snapshot_every entries: the state as of the last one applied, written
        (off the loop's way, by a task) if no newer one is there."""
        if self.applied - self._snapped < self.settings.snapshot_every:
            return
        if self._snapshotting is not None and not self._snapshotting.done():
            return
        self._snapped = self.applied
        data = json.dumps(dump(self.hub), ensure_ascii=False, separators=(",", ":"))
        self._snapshotting = asyncio.get_running_loop().create_task(
            self._write_snapshot(self.last_id, data))

    async def _write_snapshot(self, entry_id: str, data: str) -> None:
        assert self._snapshot_script is not None
        try:
            if await self._snapshot_script(
                    keys=[self.keys.snapshot, self.keys.log, self.keys.nodes,
                          self.keys.alive],
                    args=[entry_id, self.epoch, data, self.hub.node]):
                log.info("snapshot of the network at log entry %s; the log is trimmed "
                         "behind it, and behind every live node", entry_id)
        except LOST as exc:
            log.warning("snapshot not written: %s", exc)

    def _apply_batch(self, got: Any) -> None:
        for _stream, entries in got:
            for entry_id, fields in entries:
                self.last_id = _text(entry_id)
                self.applied += 1
                data = fields.get(b"f") if isinstance(fields, dict) else None
                if data is None:
                    log.warning("log entry %s skipped: no fact in it", self.last_id)
                    continue
                try:
                    fact = decode(data)
                except BadEntry as exc:
                    log.warning("log entry %s skipped: %s", self.last_id, exc)
                    continue
                try:
                    self.hub.apply_logged(fact)
                except Exception:
                    log.exception("log entry %s could not be applied; skipped", self.last_id)
                if isinstance(fact, NodeDown) and fact.node != self.hub.node:
                    log.info("node %s is down (%s)", fact.node, fact.reason)

    # -- liveness, loss and recovery ---------------------------------------------------

    async def _join_epoch(self) -> bool:
        """Check the network and version; True when the log is not the one known."""
        assert self.client is not None
        await self.client.hsetnx(self.keys.meta, "network", self.network)
        await self.client.hsetnx(self.keys.meta, "version", str(LOG_VERSION))
        check_meta(await self.client.hgetall(self.keys.meta), self.network, self.where)
        await self.client.set(self.keys.epoch, os.urandom(8).hex(), nx=True)
        epoch = _text(await self.client.get(self.keys.epoch))
        changed = bool(self.epoch) and epoch != self.epoch
        self.epoch = epoch
        return changed

    async def _beat(self) -> None:
        assert self.client is not None and self._heartbeat is not None
        local = [u.nick for u in self.hub.connections if u.registered]
        about = json.dumps({"name": self.name, "pid": os.getpid(), "users": local[:1000],
                            "count": len(local), "applied": self.last_id})
        epoch, dead, alive = await self._heartbeat(
            keys=[self.keys.alive, self.keys.log, self.keys.nodes, self.keys.epoch],
            args=[self.hub.node, int(self.settings.node_timeout * 1000), self._down_head,
                  self._down_tail, about])
        alive_now = {_text(node) for node in alive}
        self.hub.servers = max(1, len(alive_now))
        for node in sorted(alive_now - self._alive - {self.hub.node}):
            log.info("node %s is up", node)
        self._alive = alive_now
        for node in dead:
            log.info("declared node %s down: no heartbeat for %ss", _text(node),
                     self.settings.node_timeout)
        if _text(epoch) != self.epoch:
            raise RedisConnectionError("the log's epoch changed (Redis restarted)")

    async def _beat_loop(self) -> None:
        while not self.closing:
            await asyncio.sleep(self.settings.heartbeat_interval)
            try:
                await self._beat()
            except LOST as exc:
                await self._lost(exc)

    async def _lost(self, exc: BaseException) -> None:
        """Redis went away: say so once, then reconnect with backoff (one task does)."""
        if self.closing:
            return
        if not self.down:
            self.down = True
            log.warning("lost %s: %s; reconnecting", self.where, exc)
            self._notice("The network's log is unreachable; reconnecting. "
                         "What you send now is delayed.")
        async with self._recovering:
            if not self.down:
                return
            delay = 0.05
            while not self.closing:
                try:
                    await self._recover()
                    break
                except LOST as exc2:
                    log.debug("Redis still unreachable: %s", exc2)
                except ClusterError as refused:
                    log.error("%s", refused)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX)
            self.down = False
            log.info("reconnected to %s", self.where)
            self._notice("Reconnected to the network.")

    async def _recover(self) -> None:
        assert self.client is not None
        await self.client.ping()
        restarted = await self._join_epoch()
        if restarted:
            log.warning("the log at %s is a new one (Redis restarted): announcing this "
                        "node's people again", self.where)
            # Nodes known here but silent in the new log are reaped like any other.
            assert self.client is not None
            known = {u.node for u in self.hub.by_uid.values()} - {self.hub.node}
            if known:
                now = (await self.client.time())[0] * 1000
                await self.client.zadd(self.keys.alive, {n: now for n in known}, nx=True)
        await self._xadd([encode(fact) for fact in self._announcements()])
        await self._beat()

    def _announcements(self) -> list[Fact]:
        """This node's people and their rooms, as facts: no-ops where they are known."""
        hub = self.hub
        facts: list[Fact] = []
        for user in hub.connections:
            if not user.registered:
                continue
            facts.append(UserArrived(user.uid, user.nick, user.user, user.host,
                                     user.realname, user.secure, user.signon))
            for room in user.rooms.values():
                facts.append(RoomJoined(user.uid, room.name, room.created, hub.new_msgid()))
        return facts

    def _notice(self, text: str) -> None:
        hub = self.hub
        for user in list(hub.connections):
            if user.registered:
                hub.send(user, ServerMessage(Message("NOTICE", (user.nick, text),
                                                     hub.settings.name)))
