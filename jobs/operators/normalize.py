"""Parse each batch of Kafka records, join multi-line events, apply the broadcast rules, write it out.

Input: one row per batch of one partition, (topic, partition, payloads, offsets, timestamps) with
parallel arrays (see ``jobs.sources.kafka.log_batches``), keyed by ``topic:partition`` so that each
partition's batches reach one subtask in offset order. Messages that are lines of a multi-line event
wait in keyed state until the event is complete (``jobs.operators.multiline_state``); an event
completes in ``process_element`` or, when its stream went quiet, in ``on_timer``. Either way the
documents, alerts and dead letters are written through the Elasticsearch and dead-letter sinks
(``jobs.sinks.elasticsearch``, ``jobs.sinks.dead_letter``) before the call returns, so before any
checkpoint that follows it. Main output: the statistics of the events (indexed, dropped,
dead-lettered; a joined event is one event), summed per window and dimensions. Side outputs: alert
JSON for the alerts topic, threshold candidates for the keyed threshold counter, and the indexed
error records' sightings for the error groups.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row, RowKind
from pyflink.datastream import KeyedBroadcastProcessFunction, OutputTag, RuntimeContext
from pyflink.datastream.state import MapStateDescriptor

from common.parsing.options import ParseOptions, parse_environment
from common.schema import rules_topic
from common.schema.ecs import EcsRecord
from common.schema.stats import Stat, StatBatch, touch_stats
from jobs.control.config import JobConfig
from jobs.metrics import JobMetrics
from jobs.operators.batch import BatchContext, KafkaRecord, process_batch
from jobs.operators.multiline import JoinedRecords, records_in_offset_order
from jobs.operators.multiline_state import KeyedJoining
from jobs.operators.rule_set import ActiveRules
from jobs.sinks.dead_letter import DeadLetterSink
from jobs.sinks.elasticsearch.config import ElasticsearchSinkConfig
from jobs.sinks.elasticsearch.sink import ElasticsearchSink

log = logging.getLogger(__name__)


class NormalizeAndApplyRules(KeyedBroadcastProcessFunction):
    def __init__(
        self,
        config: JobConfig,
        rules_state: MapStateDescriptor,
        alerts_tag: OutputTag,
        threshold_tag: OutputTag,
        errors_tag: OutputTag,
    ) -> None:
        self._config = config
        self._rules_state = rules_state
        self._alerts_tag = alerts_tag
        self._threshold_tag = threshold_tag
        self._errors_tag = errors_tag
        self._rules: ActiveRules | None = None
        self._dead_letters = DeadLetterSink(config.kafka)
        self._documents = ElasticsearchSink(ElasticsearchSinkConfig.from_job(config), self._dead_letters)
        self._parse: Any = None
        self._options: Any = None
        # Read where the job is submitted (the workers do not inherit that environment); a bad value
        # fails the submission rather than the first batch.
        self._parse_env = parse_environment()
        ParseOptions.from_env(self._parse_env)
        self._joining = KeyedJoining()
        self._touch_windows = False
        self._metrics = JobMetrics.detached()

    def open(self, runtime_context: RuntimeContext) -> None:
        from common.gc_settings import tune_for_batches
        from common.parsing import parse_messages

        tune_for_batches()  # this worker holds whole batches of records alive: common/gc_settings.py
        self._parse = parse_messages
        self._options = ParseOptions.from_env(self._parse_env)
        self._joining.open(runtime_context, self._options)
        self._rules = None
        # Opened after a restore, this subtask touches the recent windows once (docs/job.md, "Timers
        # and checkpoints"); after a fresh start the touches find no window state and do nothing.
        self._touch_windows = True
        self._metrics = metrics = JobMetrics(runtime_context.get_metrics_group())
        metrics.watch_rules(lambda: self._rules)
        self._dead_letters.open()
        self._documents.open(observer=metrics)

    def close(self) -> None:
        # The engine runs durable-rules in child processes; stop them with the worker.
        if self._rules is not None:
            self._rules.engine.close()
            self._rules = None
        self._documents.close()
        self._dead_letters.close()

    def _active_rules(self, ctx: Any) -> ActiveRules:
        # After a restore the function object is new but the broadcast state is not: rebuild the
        # engine from it on first use instead of waiting for the topic to repeat itself.
        if self._rules is None:
            self._rules = ActiveRules()
            self._rules.restore(ctx.get_broadcast_state(self._rules_state).items())
        return self._rules

    def process_broadcast_element(self, value: Row, ctx: Any) -> None:
        kind = value.get_row_kind()
        if kind == RowKind.UPDATE_BEFORE:
            return
        rule_id = value[0]
        try:
            change = rules_topic.decode(rule_id, None if kind == RowKind.DELETE else value[1])
        except ValueError as exc:
            log.error("ignoring malformed rules-topic record: %s", exc)
            return
        rules = self._active_rules(ctx)
        if rules.apply(change):
            state = ctx.get_broadcast_state(self._rules_state)
            if change.rule is None:
                state.remove(rule_id)
            else:
                state.put(rule_id, value[1])

    def process_element(self, value: Row, ctx: Any) -> Iterator[Any]:
        topic, partition, payloads, offsets, timestamps = value
        if self._touch_windows:
            yield from self._touches(ctx, min(timestamps, default=None))
        records, joined = self._joining.on_batch(
            records_in_offset_order(topic, partition, payloads, offsets, timestamps), ctx
        )
        yield from self._process(records, joined, ctx)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Any]:
        # Events of streams that went quiet: written here, before the timer call returns, as above.
        if self._touch_windows:
            yield from self._touches(ctx, None)
        records, joined = self._joining.on_timer(timestamp, ctx)
        if records:
            yield from self._process(records, joined, ctx)

    def _touches(self, ctx: Any, oldest_ts_ms: int | None) -> list[Stat]:
        """Touches for the windows a restore may have left without timers: from before the oldest
        record of the first batch (the checkpoint's position) or now, whichever is older, by the
        disorder and idle bounds and a window, up to now."""
        self._touch_windows = False
        config = self._config
        now = ctx.timer_service().current_processing_time()
        span_ms = (config.out_of_orderness_seconds + config.idle_close_seconds + config.window_seconds) * 1000
        start = min(now, oldest_ts_ms if oldest_ts_ms is not None else now) - span_ms
        return touch_stats(start, now, config.window_seconds)

    def _process(self, records: list[KafkaRecord], joined: JoinedRecords, ctx: Any) -> Iterator[Any]:
        rules = self._active_rules(ctx)
        metrics = self._metrics
        batch = BatchContext(
            parse=self._parse_bytes,
            engine=metrics.timed_rules(rules.engine),
            index_prefix=self._config.index_prefix,
            window_seconds=self._config.window_seconds,
        )
        watermark = ctx.current_watermark()
        stats = StatBatch(self._config.window_seconds)
        # A backlog can make one batch large; slices of one bulk request's size bound what is held.
        size = self._config.es_bulk_docs
        for start in range(0, len(records), size):
            out = process_batch(records[start : start + size], watermark, batch, joined)
            metrics.batch(out)
            for stat in self._documents.write(out.writes):
                stats.add(stat)
            for stat in out.dropped_stats:
                stats.add(stat)
            for body in out.alerts:
                yield self._alerts_tag, body
            for candidate in out.threshold_candidates:
                yield self._threshold_tag, candidate
            for sighting in out.error_sightings:
                yield self._errors_tag, sighting
        drained = stats.drain()
        metrics.outcomes(drained)
        yield from drained

    def _parse_bytes(self, raw: bytes) -> list[EcsRecord]:
        return self._parse(raw, self._options)
