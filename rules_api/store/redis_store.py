"""The Redis store of record, shared by every API replica.

Layout under a configurable prefix ``P`` (default ``logflow:api:``):

- ``P{rules}:current`` hash: rule id -> JSON wire value of the current rule (contract format)
- ``P{rules}:version`` hash: rule id -> version counter; survives deletes so versions never repeat
- ``P{rules}:history:<id>`` list: one JSON history entry per version (the audit trail)
- ``P{rules}:published`` hash: rule id -> highest version confirmed in Kafka (the outbox mark)
- ``P{rules}:lock:<id>``: the short per-rule publish lock

The ``{rules}`` hash tag keeps every key in one slot, so the commit script stays valid on a
Redis Cluster. Every change goes through one Lua script that checks each rule's counter against
the version the caller read and writes all or nothing; Redis runs scripts atomically, so two
replicas can never both win and an import can never half-apply.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from common.schema.rules_topic import dumps
from common.settings import RedisSettings
from rules_api.store.base import (
    Change,
    HistoryEntry,
    RuleLimitError,
    RuleState,
    RuleStore,
    StoredRule,
    StoreUnavailableError,
    VersionConflictError,
)

T = TypeVar("T")

# KEYS: current, version, history keys (one per change)
# ARGV: max_rules, n, then per change: id, expected_version, doc ("" = delete), history entry
_COMMIT = """
local cur, ver = KEYS[1], KEYS[2]
local max_rules = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local delta = 0
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local id, expected, doc = ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 3]
  local v = tonumber(redis.call('HGET', ver, id) or '0')
  if v ~= expected then return {'conflict', id, tostring(v)} end
  local exists = redis.call('HEXISTS', cur, id) == 1
  if doc ~= '' and not exists then delta = delta + 1 end
  if doc == '' and exists then delta = delta - 1 end
end
local count = redis.call('HLEN', cur)
if delta > 0 and count + delta > max_rules then return {'limit', tostring(count), tostring(max_rules)} end
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local id, expected, doc, entry = ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 3], ARGV[b + 4]
  redis.call('HSET', ver, id, expected + 1)
  if doc == '' then redis.call('HDEL', cur, id) else redis.call('HSET', cur, id, doc) end
  redis.call('RPUSH', KEYS[2 + i], entry)
end
return {'ok'}
"""

_MARK_PUBLISHED = """
local v = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > v then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""

# KEYS: published hash, lock key; ARGV: rule id, version, lock token
_FINISH_PUBLISH = """
local v = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > v then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisRuleStore(RuleStore):
    def __init__(self, settings: RedisSettings, prefix: str = "logflow:api:", timeout_s: float = 3.0) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            settings.url,
            decode_responses=True,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            **settings.client_kwargs(),
        )
        base = f"{prefix}{{rules}}:"
        self._current = base + "current"
        self._version = base + "version"
        self._published = base + "published"
        self._history_prefix = base + "history:"
        self._lock_prefix = base + "lock:"
        self._commit = self._redis.register_script(_COMMIT)
        self._mark = self._redis.register_script(_MARK_PUBLISHED)
        self._release = self._redis.register_script(_RELEASE)
        self._finish = self._redis.register_script(_FINISH_PUBLISH)

    async def _call(self, awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"Redis: {exc}") from exc

    async def state(self, rule_id: str) -> RuleState:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(self._version, rule_id)
            pipe.hget(self._current, rule_id)
            version, doc = await self._call(pipe.execute())
        current = StoredRule.from_wire(json.loads(doc)) if doc else None
        return RuleState(int(version or 0), current)

    async def list_rules(self) -> list[StoredRule]:
        docs: dict[str, str] = await self._call(self._redis.hgetall(self._current))
        return [StoredRule.from_wire(json.loads(doc)) for doc in docs.values()]

    async def versions(self) -> dict[str, int]:
        raw: dict[str, str] = await self._call(self._redis.hgetall(self._version))
        return {k: int(v) for k, v in raw.items()}

    async def history(self, rule_id: str) -> list[HistoryEntry]:
        raw: list[str] = await self._call(self._redis.lrange(self._history_prefix + rule_id, 0, -1))
        return [HistoryEntry.from_json(json.loads(item)) for item in raw]

    async def commit(self, changes: Sequence[Change], max_rules: int) -> None:
        if not changes:
            return
        keys = [self._current, self._version] + [self._history_prefix + c.rule_id for c in changes]
        args: list[Any] = [max_rules, len(changes)]
        for c in changes:
            args += [
                c.rule_id,
                c.expected_version,
                dumps(c.record.to_wire()) if c.record is not None else "",
                dumps(c.entry.to_json()),
            ]
        result = await self._call(self._commit(keys=keys, args=args))
        status = result[0]
        if status == "conflict":
            raise VersionConflictError(result[1], int(result[2]))
        if status == "limit":
            raise RuleLimitError(int(result[1]), int(result[2]))

    async def published_versions(self) -> dict[str, int]:
        raw: dict[str, str] = await self._call(self._redis.hgetall(self._published))
        return {k: int(v) for k, v in raw.items()}

    async def mark_published(self, rule_id: str, version: int) -> None:
        await self._call(self._mark(keys=[self._published], args=[rule_id, version]))

    async def acquire_lock(self, rule_id: str, ttl_s: float) -> str | None:
        token = secrets.token_hex(12)
        ok = await self._call(
            self._redis.set(self._lock_prefix + rule_id, token, nx=True, px=int(ttl_s * 1000))
        )
        return token if ok else None

    async def finish_publish(self, rule_id: str, token: str, version: int) -> bool:
        keys = [self._published, self._lock_prefix + rule_id]
        return bool(await self._call(self._finish(keys=keys, args=[rule_id, version, token])))

    async def release_lock(self, rule_id: str, token: str) -> None:
        await self._call(self._release(keys=[self._lock_prefix + rule_id], args=[token]))

    async def ping(self) -> None:
        await self._call(self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]
