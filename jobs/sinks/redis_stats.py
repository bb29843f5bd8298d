"""The statistics sink: per-window statistics in Redis (key schema: ``common.schema.stats``).

``RedisStatsSink`` is what the window statistics operator opens and writes through; the functions
below it are the writes themselves, and ``read_windows`` reads them back for ``logflow stats``.

A write that fails because Redis cannot be reached (connection refused or lost, timeout) is
counted (``redis_write_errors``, jobs/metrics.py) and retried with backoff for as long as it takes,
as the Elasticsearch sink does: the operator does not return meanwhile, so Flink backpressures the
job instead of restarting it. Window writes replace the window whole, so a retry is harmless. Any
other Redis error (a command refused) is counted and raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from common.schema.stats import DIMENSIONS, StatsKeys, WindowStats
from common.settings import RedisSettings
from jobs.metrics import RedisObserver

log = logging.getLogger(__name__)


class RedisStatsSink:
    def __init__(
        self,
        settings: RedisSettings,
        keys: StatsKeys,
        ttl_seconds: int,
        *,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 15.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._ttl_seconds = ttl_seconds
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._client: Any = None
        self._observer = RedisObserver()

    def open(self, observer: RedisObserver | None = None) -> None:
        self._client = connect(self._settings)
        self._observer = observer or RedisObserver()

    def write_window(self, stats: WindowStats) -> None:
        self._retrying(lambda: write_window(self._client, self._keys, stats, self._ttl_seconds))

    def add_late(self, start: int, count: int) -> None:
        self._retrying(lambda: add_late(self._client, self._keys, start, count, self._ttl_seconds))

    def _retrying(self, write: Callable[[], None]) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import RedisError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        delay = self._backoff_initial_s
        while True:
            try:
                write()
            except (RedisConnectionError, RedisTimeoutError) as exc:
                self._observer.redis_write_error()
                log.warning("Redis write failed (%s); retrying in %.1fs", exc, delay)
                self._sleep(delay)
                delay = min(delay * 2, self._backoff_max_s)
                continue
            except RedisError:
                self._observer.redis_write_error()
                raise
            self._observer.redis_write()
            return

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def connect(settings: RedisSettings) -> Any:
    import redis

    return redis.Redis.from_url(
        settings.url,
        decode_responses=True,
        socket_timeout=10,
        health_check_interval=30,
        **settings.client_kwargs(),
    )


def write_window(client: Any, keys: StatsKeys, stats: WindowStats, ttl_seconds: int) -> None:
    """Replace the window's keys with these counts, atomically; idempotent by construction."""
    pipe = client.pipeline(transaction=True)
    pipe.delete(*keys.all_for(stats.start))
    pipe.hset(keys.totals(stats.start), mapping=stats.totals_hash())
    for name in DIMENSIONS:
        counts = stats.dimension(name)
        if counts:
            pipe.hset(keys.dimension(stats.start, name), mapping={k: str(v) for k, v in counts.items()})
    for key in keys.all_for(stats.start):
        pipe.expire(key, ttl_seconds)
    pipe.zadd(keys.index, {str(stats.start): stats.start})
    pipe.expire(keys.index, ttl_seconds)
    # The index outlives single windows, so it is trimmed here rather than left to expire.
    pipe.zremrangebyscore(keys.index, "-inf", f"({int(time.time()) - ttl_seconds}")
    pipe.execute()


def add_late(client: Any, keys: StatsKeys, start: int, count: int, ttl_seconds: int) -> None:
    """Count events that arrived after their window's state was retired (see the README caveat)."""
    pipe = client.pipeline(transaction=True)
    pipe.hincrby(keys.totals(start), "late", count)
    pipe.expire(keys.totals(start), ttl_seconds)
    pipe.zadd(keys.index, {str(start): start})
    pipe.execute()


def read_windows(
    client: Any, keys: StatsKeys, since_epoch: int, until_epoch: int | None = None
) -> list[WindowStats]:
    """Windows whose start lies in [since, until], oldest first."""
    upper: Any = "+inf" if until_epoch is None else until_epoch
    starts = [int(s) for s in client.zrangebyscore(keys.index, since_epoch, upper)]
    if not starts:
        return []
    pipe = client.pipeline(transaction=False)
    for start in starts:
        pipe.hgetall(keys.totals(start))
        for name in DIMENSIONS:
            pipe.hgetall(keys.dimension(start, name))
    replies = pipe.execute()
    windows: list[WindowStats] = []
    step = 1 + len(DIMENSIONS)
    for i, start in enumerate(starts):  # ZRANGEBYSCORE answers in score order
        chunk = replies[i * step : (i + 1) * step]
        if not chunk[0]:
            continue  # expired between the index read and the hash read
        windows.append(
            WindowStats.from_hashes(
                start, keys.window_seconds, chunk[0], dict(zip(DIMENSIONS, chunk[1:], strict=True))
            )
        )
    return windows
