"""Error groups on Flink keyed state: per fingerprint, the group, its alerts and its Redis keys.

Input: ``ErrorSighting`` tuples (the parsing operator's side output), keyed by fingerprint. The
whole per-fingerprint step is ``common.errors.groups`` (``GroupState``, ``count_sighting``,
``write_commands``, ``close_windows``); this operator keeps that state in one checkpointed value,
so the group, its count and whether it was ever seen are exactly once across failures and
restores: a record read again after a failure is counted again only from the checkpoint that
preceded its first reading.

- Alerts (a new group, a regression) are indexed before the element completes, under an id a
  replay reproduces, and go to the alerts topic through the side output (at least once there).
- Redis: the group's hash, its places in the two sorted sets and its counts in the open windows
  are written as absolute values from the state, coalesced over ``FLUSH_DELAY_MS`` of processing
  time (a timer, checkpointed like the state, so a restored operator still writes what it owes).
- A window's count leaves the state when the watermark passes the window's end (an event-time
  timer): every record counted in it had been read before that watermark. Its final count is
  written first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from pyflink.common import Types
from pyflink.datastream import KeyedProcessFunction, OutputTag, RuntimeContext, TimeDomain
from pyflink.datastream.state import ValueStateDescriptor

from common.errors.groups import GroupState, close_windows, count_sighting, write_commands
from common.schema.error_groups import ErrorGroupKeys, ErrorSighting
from common.schema.stats import window_end_ms
from jobs.control.config import JobConfig
from jobs.sinks.dead_letter import DeadLetterSink
from jobs.sinks.elasticsearch.config import ElasticsearchSinkConfig
from jobs.sinks.elasticsearch.request_builder import alert_request
from jobs.sinks.elasticsearch.sink import ElasticsearchSink
from jobs.sinks.redis_errors import RedisErrorGroupsSink

# A group's writes are coalesced over this long: a busy group costs one write a second, not one a record.
FLUSH_DELAY_MS = 1000
# How often (wall clock) each subtask drops expired groups from the sorted sets.
TRIM_EVERY_S = 300.0


class ErrorGroups(KeyedProcessFunction):
    def __init__(self, config: JobConfig, alerts_tag: OutputTag) -> None:
        self._config = config
        self._alerts_tag = alerts_tag
        self._keys = ErrorGroupKeys(config.stats_prefix, config.window_seconds)
        self._redis = RedisErrorGroupsSink(config.redis, self._keys, config.stats_ttl_seconds)
        self._dead_letters = DeadLetterSink(config.kafka)
        self._alerts = ElasticsearchSink(ElasticsearchSinkConfig.from_job(config), self._dead_letters)
        self._state: Any = None
        self._last_trim = 0.0

    def open(self, runtime_context: RuntimeContext) -> None:
        self._state = runtime_context.get_state(ValueStateDescriptor("error-group", Types.STRING()))
        self._redis.open()
        self._dead_letters.open()
        self._alerts.open()

    def close(self) -> None:
        self._alerts.close()
        self._dead_letters.close()
        self._redis.close()

    def process_element(self, value: ErrorSighting, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        sighting = value
        state = GroupState.from_json(self._state.value())
        announcement = count_sighting(
            state, sighting, self._config.errors_regression_seconds, self._config.window_seconds
        )
        self._state.update(state.to_json())
        timers = ctx.timer_service()
        # On every sighting, at the next whole FLUSH_DELAY_MS: Flink keeps one timer per key and
        # instant, so this is at most one write per key and period, and a group dirtied again after
        # a restore never depends on a timer restored from the checkpoint.
        now = timers.current_processing_time()
        timers.register_processing_time_timer((now // FLUSH_DELAY_MS + 1) * FLUSH_DELAY_MS)
        if not sighting.late:
            timers.register_event_time_timer(window_end_ms(sighting.ts_ms, self._config.window_seconds) - 1)
        if announcement is None:
            return
        body, request = alert_request(
            announcement.alert, announcement.alert_id, self._config.index_prefix, announcement.ts_ms
        )
        self._alerts.write([request])  # indexed before the element completes, like documents
        yield self._alerts_tag, body

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable[Any]:
        state = GroupState.from_json(self._state.value())
        ttl = self._config.stats_ttl_seconds
        if ctx.time_domain() == TimeDomain.EVENT_TIME:
            commands = close_windows(state, timestamp, self._config.window_seconds, self._keys, ttl)
        else:
            commands = write_commands(state, self._keys, ttl) if state.dirty else []
        if commands:
            self._redis.write(commands)  # before the state says written: a failure rewrites, never skips
        self._state.update(state.to_json())
        now = time.time()
        if now - self._last_trim >= TRIM_EVERY_S:
            self._last_trim = now
            self._redis.trim(now)
        return ()  # PyFlink iterates the result even when there is nothing to emit
