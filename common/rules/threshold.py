"""Threshold alerts: N matches within a sliding window, per (rule id, group values).

The counter is a pure, JSON-serialisable value so that it can live wherever the stream's state
lives: the Flink job keeps one per key in keyed state (key = ``threshold_key(rule_id, group)``),
the dry run keeps them in a dict. durable-rules' own correlation is not used for this: its state is
in the engine host, which is recycled and is not checkpointed, whereas Flink state is.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def threshold_key(rule_id: str, group: Sequence[Any]) -> str:
    return json.dumps([rule_id, list(group)], separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass
class ThresholdCounter:
    count: int
    window_seconds: float
    timestamps: list[float] = field(default_factory=list)  # sorted event times inside the window

    def observe(self, timestamp: float) -> bool:
        """Record one match; True when it completes ``count`` matches within the window.

        Firing resets the counter, so a sustained burst alerts once per ``count`` matches rather
        than on every match after the first N.
        """
        bisect.insort(self.timestamps, timestamp)
        self.expire(max(timestamp, self.timestamps[-1]))
        if len(self.timestamps) >= self.count:
            self.timestamps.clear()
            return True
        return False

    def expire(self, now: float) -> None:
        cutoff = now - self.window_seconds
        cut = bisect.bisect_right(self.timestamps, cutoff)
        if cut:
            del self.timestamps[:cut]

    def is_idle(self, now: float) -> bool:
        """Nothing left in the window: the state can be dropped (e.g. a Flink state TTL or timer)."""
        return not self.timestamps or self.timestamps[-1] <= now - self.window_seconds

    def to_state(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "window_seconds": self.window_seconds,
            "timestamps": list(self.timestamps),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ThresholdCounter:
        return cls(
            count=int(state["count"]),
            window_seconds=float(state["window_seconds"]),
            timestamps=sorted(float(t) for t in state.get("timestamps", [])),
        )


class InMemoryThresholds:
    """Counters by key, for the dry run and single-process use; idle counters are evicted."""

    def __init__(self, evict_every: int = 10_000) -> None:
        self._counters: dict[str, ThresholdCounter] = {}
        self._evict_every = evict_every
        self._observations = 0

    def observe(self, key: str, count: int, window_seconds: float, timestamp: float) -> bool:
        counter = self._counters.get(key)
        if counter is None or counter.count != count or counter.window_seconds != window_seconds:
            counter = self._counters[key] = ThresholdCounter(count, window_seconds)
        fired = counter.observe(timestamp)
        self._observations += 1
        if self._observations % self._evict_every == 0:
            for stale in [k for k, c in self._counters.items() if c.is_idle(timestamp)]:
                del self._counters[stale]
        return fired

    def __len__(self) -> int:
        return len(self._counters)
