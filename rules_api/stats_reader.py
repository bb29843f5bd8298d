"""Reads the job's per-window counters from Redis, by the key schema in common/schema/stats.py.

The dashboards are a reader of that public contract only: they never write a stats key.
"""

from __future__ import annotations

from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from common.schema.stats import DIMENSIONS, StatsKeys, WindowStats
from common.settings import RedisSettings


class StatsUnavailableError(RuntimeError):
    """Redis could not be read (the route answers 503 with this text)."""


class StatsReader(Protocol):
    window_seconds: int

    async def windows(self, since_epoch: int, until_epoch: int) -> list[WindowStats]: ...

    async def close(self) -> None: ...


class RedisStatsReader:
    def __init__(self, settings: RedisSettings, keys: StatsKeys) -> None:
        self._keys = keys
        self.window_seconds = keys.window_seconds
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            settings.url, decode_responses=True, socket_timeout=5, **settings.client_kwargs()
        )

    async def windows(self, since_epoch: int, until_epoch: int) -> list[WindowStats]:
        """Windows whose start lies in [since, until], oldest first (one pipelined round trip)."""
        keys = self._keys
        try:
            starts = [int(s) for s in await self._redis.zrangebyscore(keys.index, since_epoch, until_epoch)]
            if not starts:
                return []
            pipe = self._redis.pipeline(transaction=False)
            for start in starts:
                pipe.hgetall(keys.totals(start))
                for name in DIMENSIONS:
                    pipe.hgetall(keys.dimension(start, name))
            replies = await pipe.execute()
        except RedisError as exc:
            raise StatsUnavailableError(f"Redis: {exc}") from exc
        step = 1 + len(DIMENSIONS)
        found: list[WindowStats] = []
        for i, start in enumerate(starts):
            chunk = replies[i * step : (i + 1) * step]
            if not chunk[0]:
                continue  # expired between the index read and the hash read
            found.append(
                WindowStats.from_hashes(
                    start, keys.window_seconds, chunk[0], dict(zip(DIMENSIONS, chunk[1:], strict=True))
                )
            )
        return found

    async def close(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]
