"""Turns the windows of a time range into what the overview page draws (pure, no I/O)."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from common.schema.stats import TOTALS, WindowStats

# The ranges the page offers, in seconds.
RANGES: dict[str, int] = {"15m": 15 * 60, "1h": 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600}
# At most this many bars: a 7-day range of 1-minute windows is drawn as 2-hour buckets, not 10080 bars.
MAX_BUCKETS = 120
UNKNOWN_DATASET = "unknown"
# How long a summary of each range is reused. A long range costs one HGETALL per window and
# dimension (7 days of 1-minute windows: ~50k reads, ~5 s against the local Redis) while its bars
# barely move between two 10-second page refreshes; short ranges are always read fresh.
REUSE_SECONDS: dict[str, float] = {"15m": 0.0, "1h": 0.0, "24h": 30.0, "7d": 120.0}


class SummaryCache:
    """Reuses a computed summary for a while; concurrent requests for the same key wait for one
    computation instead of each reading Redis."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}
        self._locks: dict[tuple[Any, ...], asyncio.Lock] = {}

    async def get(
        self, key: tuple[Any, ...], reuse_s: float, compute: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        if reuse_s <= 0:
            return await compute()
        async with self._locks.setdefault(key, asyncio.Lock()):
            found = self._entries.get(key)
            if found is not None and found[0] > self._clock():
                return found[1]
            value = await compute()
            self._entries[key] = (self._clock() + reuse_s, value)
            return value


def bucket_seconds(range_seconds: int, window_seconds: int) -> int:
    """A whole number of windows, so every window falls in exactly one bucket."""
    per_bucket = max(1, math.ceil(range_seconds / window_seconds / MAX_BUCKETS))
    return per_bucket * window_seconds


def _top(counter: Counter[str], top: int) -> list[dict[str, Any]]:
    return [{"name": name, "count": count} for name, count in counter.most_common(top)]


def summarize(
    windows: list[WindowStats], *, since: int, until: int, window_seconds: int, top: int
) -> dict[str, Any]:
    step = bucket_seconds(until - since, window_seconds)
    first = since // step * step
    buckets: dict[int, Counter[str]] = {}
    totals: Counter[str] = Counter()
    dimensions: dict[str, Counter[str]] = {d: Counter() for d in ("dataset", "host", "level", "rule")}
    for window in windows:
        slot = first + (window.start - first) // step * step
        buckets.setdefault(slot, Counter()).update(window.by_dataset)
        for name in TOTALS:
            totals[name] += getattr(window, name)
        for name, counter in dimensions.items():
            counter.update(window.dimension(name))
    datasets = [name for name, _ in dimensions["dataset"].most_common()]
    series = [
        {
            "start": start,
            "total": sum(buckets.get(start, Counter()).values()),
            "by_dataset": dict(buckets[start]),
        }
        for start in range(first, until + 1, step)
        if start in buckets
    ]
    total = totals["total"]
    unknown = dimensions["dataset"][UNKNOWN_DATASET]
    return {
        "from": since,
        "to": until,
        "window_seconds": window_seconds,
        "bucket_seconds": step,
        "windows": len(windows),
        "datasets": datasets,
        "series": series,
        "totals": {name: totals[name] for name in TOTALS},
        "by_level": _top(dimensions["level"], top),
        "by_host": _top(dimensions["host"], top),
        "by_rule": _top(dimensions["rule"], top),
        "by_dataset": _top(dimensions["dataset"], top),
        "unknown": {"count": unknown, "share": unknown / total if total else 0.0},
    }
