"""Event-time tumbling-window statistics, keyed by window start, written to Redis.

The event time is the Kafka record timestamp (watermarks allow ``out_of_orderness`` seconds of
disorder). Whether an event is late was decided when the job read it (``Stat.late``); this operator
only counts. A window is written when the watermark passes its end — or, when the stream has gone
quiet and no watermark will come, ``idle_close`` seconds of wall-clock time after its end — and
rewritten whole (coalesced over a second) whenever more counts for it arrive, so replays stay
idempotent. Its state is kept ``late_retention`` seconds after the first write; counts arriving
later still only increment ``late`` (HINCRBY), the one non-idempotent path, documented in the README.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyflink.common import Types
from pyflink.datastream import KeyedProcessFunction, RuntimeContext, TimeDomain
from pyflink.datastream.state import ValueStateDescriptor

from common.schema.stats import StatsKeys, WindowStats
from jobs.config import JobConfig
from jobs.elements import DEAD_LETTERED, DROPPED, INDEXED, Stat
from jobs.sinks.redis_stats import add_late, connect, write_window

# A rewrite after a window was first written is coalesced over this long (processing time).
REWRITE_DELAY_MS = 1000


def count_into(stats: WindowStats, stat: Stat) -> None:
    _, outcome, dataset, host, level, rules, count, late = stat
    if late:
        stats.late += count
        return
    stats.total += count
    if outcome == INDEXED:
        stats.indexed += count
    elif outcome == DROPPED:
        stats.dropped += count
    elif outcome == DEAD_LETTERED:
        stats.dead_lettered += count
    stats.by_dataset[dataset] += count
    stats.by_host[host] += count
    stats.by_level[level] += count
    for rule_id in rules:
        stats.by_rule[rule_id] += count


@dataclass
class WindowState:
    stats: WindowStats
    written: bool = False
    dirty: bool = False
    retire_at: int = 0


def window_start(ts_ms: int, window_seconds: int) -> int:
    return (ts_ms // 1000) // window_seconds * window_seconds


class WindowStatistics(KeyedProcessFunction):
    """Input: ``Stat`` tuples keyed by ``window_start``; output: nothing (writes Redis)."""

    def __init__(self, config: JobConfig) -> None:
        self._config = config
        self._keys = StatsKeys(config.stats_prefix, config.window_seconds)
        self._redis: Any = None
        self._state: Any = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._state = runtime_context.get_state(ValueStateDescriptor("window", Types.PICKLED_BYTE_ARRAY()))
        self._redis = connect(self._config.redis)

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()

    # PyFlink iterates whatever these return, so "no output" must be an empty iterable, not None.
    def process_element(self, value: Stat, ctx: KeyedProcessFunction.Context) -> Iterable[Any]:
        self._count(value, ctx)
        return ()

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable[Any]:
        self._fire(timestamp, ctx)
        return ()

    def _count(self, value: Stat, ctx: KeyedProcessFunction.Context) -> None:
        start = int(ctx.get_current_key())
        end_ms = (start + self._config.window_seconds) * 1000
        timers = ctx.timer_service()
        now = timers.current_processing_time()
        state: WindowState | None = self._state.value()
        if state is None:
            if value[7] and timers.current_watermark() >= end_ms - 1:
                # A late event for a window whose state was retired (or never existed).
                add_late(self._redis, self._keys, start, value[6], self._config.stats_ttl_seconds)
                return
            state = WindowState(WindowStats(start=start, end=start + self._config.window_seconds))
            timers.register_event_time_timer(end_ms - 1)
            wait_ms = (
                max(0, end_ms - value[0])
                + (self._config.out_of_orderness_seconds + self._config.idle_close_seconds) * 1000
            )
            timers.register_processing_time_timer(now + wait_ms)
        count_into(state.stats, value)
        if state.written and not state.dirty:
            state.dirty = True
            timers.register_processing_time_timer(now + REWRITE_DELAY_MS)
        self._state.update(state)

    def _fire(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> None:
        state: WindowState | None = self._state.value()
        if state is None:
            return
        timers = ctx.timer_service()
        if (
            ctx.time_domain() == TimeDomain.PROCESSING_TIME
            and state.written
            and timestamp >= state.retire_at > 0
        ):
            if state.dirty:
                write_window(self._redis, self._keys, state.stats, self._config.stats_ttl_seconds)
            self._state.clear()
            return
        if not state.written or state.dirty:
            write_window(self._redis, self._keys, state.stats, self._config.stats_ttl_seconds)
            if not state.written:
                state.retire_at = (
                    timers.current_processing_time() + self._config.late_retention_seconds * 1000
                )
                timers.register_processing_time_timer(state.retire_at)
            state.written = True
            state.dirty = False
            self._state.update(state)
