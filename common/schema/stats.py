"""Per-window statistics and their Redis key schema: a public interface for dashboards.

For a window size of ``S`` seconds (default 60) and a key prefix ``P`` (default ``logflow:stats``):

- ``P:{S}s:index`` — sorted set; member = window start (epoch seconds, as text), score = the same
  number. ``ZRANGEBYSCORE P:60s:index <from> <to>`` lists the windows of a time range.
- ``P:{S}s:{start}`` — hash of the window's totals: ``start``, ``end`` (ISO-8601 UTC), ``total``,
  ``indexed``, ``dropped``, ``dead_lettered``, ``late``.
- ``P:{S}s:{start}:dataset``, ``:host``, ``:level``, ``:rule`` — hashes of value -> count.

Every key carries a TTL (7 days by default). A window is written whole (delete + set in one
MULTI/EXEC), so replaying a window after a failure sets the same values instead of adding to them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DIMENSIONS: tuple[str, ...] = ("dataset", "host", "level", "rule")
TOTALS: tuple[str, ...] = ("total", "indexed", "dropped", "dead_lettered", "late")
DEFAULT_PREFIX = "logflow:stats"


def _iso(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class StatsKeys:
    """Builds the Redis key names for one window size under one prefix."""

    prefix: str = DEFAULT_PREFIX
    window_seconds: int = 60

    @property
    def base(self) -> str:
        return f"{self.prefix}:{self.window_seconds}s"

    @property
    def index(self) -> str:
        return f"{self.base}:index"

    def totals(self, start: int) -> str:
        return f"{self.base}:{start}"

    def dimension(self, start: int, name: str) -> str:
        return f"{self.base}:{start}:{name}"

    def all_for(self, start: int) -> list[str]:
        return [self.totals(start), *(self.dimension(start, d) for d in DIMENSIONS)]


@dataclass
class WindowStats:
    """The counters of one event-time window (start/end in epoch seconds)."""

    start: int
    end: int
    total: int = 0
    indexed: int = 0
    dropped: int = 0
    dead_lettered: int = 0
    late: int = 0
    by_dataset: Counter[str] = field(default_factory=Counter)
    by_host: Counter[str] = field(default_factory=Counter)
    by_level: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)

    def dimension(self, name: str) -> Counter[str]:
        counter: Counter[str] = getattr(self, f"by_{name}")
        return counter

    def totals_hash(self) -> dict[str, str]:
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            **{name: str(getattr(self, name)) for name in TOTALS},
        }

    def to_json(self) -> dict[str, Any]:
        """The shape `logflow stats --json` prints for one window."""
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "total": self.total,
            **{f"by_{d}": dict(sorted(self.dimension(d).items())) for d in DIMENSIONS},
            "indexed": self.indexed,
            "dropped": self.dropped,
            "dead_lettered": self.dead_lettered,
            "late": self.late,
        }

    @classmethod
    def from_hashes(
        cls, start: int, window_seconds: int, totals: dict[str, str], dimensions: dict[str, dict[str, str]]
    ) -> WindowStats:
        stats = cls(start=start, end=start + window_seconds)
        for name in TOTALS:
            setattr(stats, name, int(totals.get(name, 0) or 0))
        for name in DIMENSIONS:
            stats.dimension(name).update({k: int(v) for k, v in dimensions.get(name, {}).items()})
        return stats
