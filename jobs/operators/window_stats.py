"""Event-time tumbling-window statistics, keyed by window start, written to Redis.

The writes go through the statistics sink, ``jobs.sinks.redis_stats``; the window arithmetic and the
statistic itself are ``common.schema.stats``.

The event time is the Kafka record timestamp (watermarks allow ``out_of_orderness`` seconds of
disorder). Whether an event is late was decided when the job read it (``Stat.late``); this operator
only counts. A window is written when the watermark passes its end — or, when the stream has gone
quiet and no watermark will come, ``idle_close`` seconds of wall-clock time after its end — and
rewritten whole (coalesced over a second) whenever more counts for it arrive, so replays stay
idempotent. Its state is kept ``late_retention`` seconds after the first write; counts arriving
later still only increment ``late`` (HINCRBY), the one non-idempotent path, documented in the README.

Every count registers the window's timers again, at the same deterministic times (Flink keeps one
timer per key and timestamp): PyFlink (2.2) registers a Python timer in a mailbox action queued
when the bundle that made it finishes, and the bundle a checkpoint barrier finishes is snapshotted
before that action runs, so a restore from that checkpoint has the window's state without the
timers made in its last bundle (docs/job.md, "Timers and checkpoints"). Registering on every count
makes one surviving registration enough; a window that gets no count after a restore gets a touch
(``common.schema.stats.TOUCH``, from the normalize operator's first call after it opens) instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyflink.common import Types
from pyflink.datastream import KeyedProcessFunction, RuntimeContext, TimeDomain
from pyflink.datastream.state import ValueStateDescriptor

from common.schema.stats import TOUCH, Stat, StatsKeys, WindowStats
from jobs.control.config import JobConfig
from jobs.metrics import JobMetrics
from jobs.sinks.redis_stats import RedisStatsSink

# A rewrite after a window was first written is coalesced over this long (processing time), on a
# grid, so that every count of a window registers the same rewrite timer.
REWRITE_DELAY_MS = 1000


def rewrite_at(now_ms: int) -> int:
    """The rewrite timer for a count at ``now_ms``: the grid point at least the delay ahead."""
    return -(-(now_ms + REWRITE_DELAY_MS) // REWRITE_DELAY_MS) * REWRITE_DELAY_MS


@dataclass
class WindowState:
    stats: WindowStats
    written: bool = False
    dirty: bool = False
    retire_at: int = 0
    # Processing time at which a quiet stream's window is written without its watermark (0: not
    # set, as in state written before this field existed).
    close_at: int = 0


class WindowStatistics(KeyedProcessFunction):
    """Input: ``Stat`` keyed by ``common.schema.stats.window_start``; output: nothing (writes Redis)."""

    def __init__(self, config: JobConfig) -> None:
        self._config = config
        self._redis_stats = RedisStatsSink(
            config.redis, StatsKeys(config.stats_prefix, config.window_seconds), config.stats_ttl_seconds
        )
        self._state: Any = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._state = runtime_context.get_state(ValueStateDescriptor("window", Types.PICKLED_BYTE_ARRAY()))
        self._redis_stats.open(observer=JobMetrics(runtime_context.get_metrics_group()))

    def close(self) -> None:
        self._redis_stats.close()

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
        if value.outcome == TOUCH:
            if state is not None:  # a window with state: its timers again, nothing counted
                self._arm(state, end_ms, now, timers)
            return
        if state is None:
            if value.late and timers.current_watermark() >= end_ms - 1:
                # A late event for a window whose state was retired (or never existed).
                self._redis_stats.add_late(start, value.events)
                return
            state = WindowState(WindowStats(start=start, end=start + self._config.window_seconds))
        if not state.close_at:
            wait_ms = (
                max(0, end_ms - value.ts_ms)
                + (self._config.out_of_orderness_seconds + self._config.idle_close_seconds) * 1000
            )
            state.close_at = now + wait_ms
        state.stats.add(value)
        if state.written:
            state.dirty = True
        # Registered on every count, not only the first: see the module's docstring.
        self._arm(state, end_ms, now, timers)
        self._state.update(state)

    @staticmethod
    def _arm(state: WindowState, end_ms: int, now: int, timers: Any) -> None:
        if not state.written:
            timers.register_event_time_timer(end_ms - 1)
            timers.register_processing_time_timer(state.close_at)
            return
        if state.dirty:
            timers.register_processing_time_timer(rewrite_at(now))
        timers.register_processing_time_timer(state.retire_at)

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
                self._redis_stats.write_window(state.stats)
            self._state.clear()
            return
        if not state.written or state.dirty:
            self._redis_stats.write_window(state.stats)
            if not state.written:
                state.retire_at = (
                    timers.current_processing_time() + self._config.late_retention_seconds * 1000
                )
                timers.register_processing_time_timer(state.retire_at)
            state.written = True
            state.dirty = False
            self._state.update(state)


# Savepoints taken before the job's packages were reorganised hold this state pickled under its old
# module path; this alias lets them restore (pickle looks the class up by module and name).
sys.modules.setdefault("jobs.transforms.window_stats", sys.modules[__name__])
