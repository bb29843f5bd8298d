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
from typing import Any, NamedTuple

DIMENSIONS: tuple[str, ...] = ("dataset", "host", "level", "rule")
TOTALS: tuple[str, ...] = ("total", "indexed", "dropped", "dead_lettered", "late")
DEFAULT_PREFIX = "logflow:stats"

# What became of a consumed event.
INDEXED = "indexed"
DROPPED = "dropped"
DEAD_LETTERED = "dead_lettered"
OUTCOMES: tuple[str, ...] = (INDEXED, DROPPED, DEAD_LETTERED)
# Not an outcome: a Stat of no events that only reaches its window's statistics operator, which
# then registers the window's timers again (after a restore; docs/job.md, "Timers and checkpoints").
TOUCH = "touch"
# The most windows one touch covers, whatever the window size and the time to cover.
MAX_TOUCHED_WINDOWS = 1_000


def touch_stats(from_ms: int, to_ms: int, window_seconds: int) -> list[Stat]:
    """A touch for every window from the one ``from_ms`` falls in to the one ``to_ms`` falls in (the
    newest ``MAX_TOUCHED_WINDOWS`` of them)."""
    step = window_seconds * 1000
    last = window_start(to_ms, window_seconds) * 1000
    first = max(window_start(from_ms, window_seconds) * 1000, last - (MAX_TOUCHED_WINDOWS - 1) * step)
    return [Stat(start, TOUCH, "", "", "", (), 0, False) for start in range(first, last + 1, step)]


class Stat(NamedTuple):
    """``events`` consumed events with these dimensions, on their way to the window statistics.

    A NamedTuple: it travels between the job's operators and is pickled on every hop, where a
    tuple's encoding is the cheapest. ``late`` says the watermark had passed the event's window when
    the job read it; lateness is decided there, once (see ``StatBatch``).
    """

    ts_ms: int  # the event time (Kafka timestamp); once summed by StatBatch, the window's start
    outcome: str  # one of OUTCOMES
    dataset: str
    host: str
    level: str
    rules: tuple[str, ...]
    events: int  # how many events these are
    late: bool


# The window arithmetic, in one place: every reader and writer of windows uses these.


def window_start(ts_ms: int, window_seconds: int) -> int:
    """The start (epoch seconds) of the tumbling window the instant ``ts_ms`` falls in."""
    return (ts_ms // 1000) // window_seconds * window_seconds


def window_start_ms(ts_ms: int, window_seconds: int) -> int:
    return window_start(ts_ms, window_seconds) * 1000


def window_end_ms(ts_ms: int, window_seconds: int) -> int:
    """The first millisecond after the window ``ts_ms`` falls in."""
    return (window_start(ts_ms, window_seconds) + window_seconds) * 1000


def is_late(ts_ms: int, watermark_ms: int, window_seconds: int) -> bool:
    """Whether the watermark has already passed the end of the window ``ts_ms`` falls in."""
    # Asked once per event: the arithmetic of window_end_ms, inline.
    window_ms = window_seconds * 1000
    return watermark_ms >= ts_ms - ts_ms % window_ms + window_ms - 1


def stat_for(record: dict[str, Any], ts_ms: int, outcome: str, hits: list[str], late: bool = False) -> Stat:
    """The statistic of one event, its dimensions read from its ECS record."""
    event = record.get("event")
    dataset = event.get("dataset") if isinstance(event, dict) else None
    host = record.get("host")
    host_name = host.get("name") if isinstance(host, dict) else None
    log = record.get("log")
    level = log.get("level") if isinstance(log, dict) else None
    return Stat(
        ts_ms,
        outcome,
        str(dataset or "unknown"),
        str(host_name or "-"),
        str(level or "-"),
        tuple(hits),
        1,
        late,
    )


class StatBatch:
    """Sums stats with the same window and dimensions; ``drain`` hands the sums out once.

    A sum can reach the statistics operator after the watermark that followed its events; it is
    still counted where it belongs, because each stat carries the lateness decided when read.
    """

    def __init__(self, window_seconds: int) -> None:
        self._window_seconds = window_seconds
        self._counts: Counter[Stat] = Counter()

    def add(self, stat: Stat) -> None:
        key = stat._replace(ts_ms=window_start_ms(stat.ts_ms, self._window_seconds), events=0)
        self._counts[key] += stat.events

    def drain(self) -> list[Stat]:
        drained = [key._replace(events=events) for key, events in self._counts.items()]
        self._counts.clear()
        return drained

    def __len__(self) -> int:
        return len(self._counts)


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

    def add(self, stat: Stat) -> None:
        """Add one (summed) statistic; a late one only to ``late``."""
        if stat.late:
            self.late += stat.events
            return
        self.total += stat.events
        if stat.outcome == INDEXED:
            self.indexed += stat.events
        elif stat.outcome == DROPPED:
            self.dropped += stat.events
        elif stat.outcome == DEAD_LETTERED:
            self.dead_lettered += stat.events
        self.by_dataset[stat.dataset] += stat.events
        self.by_host[stat.host] += stat.events
        self.by_level[stat.level] += stat.events
        for rule_id in stat.rules:
            self.by_rule[rule_id] += stat.events

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
