"""Threshold alerts ("N matches within a window, grouped by fields") on Flink keyed state.

The rules engine reports each match of a thresholded ``alert`` action as a pending alert; this
operator, keyed by ``threshold_key(rule id, group values)``, keeps the rules core's
``ThresholdCounter`` for that key in checkpointed state, so counts survive failures and restores.
An idle counter's state is cleared by a processing-time timer. A fired alert is indexed before
the element completes (like every document, see ``jobs.sinks.elasticsearch``) and goes to the alerts
topic through a side output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from pyflink.common import Types
from pyflink.datastream import KeyedProcessFunction, OutputTag, RuntimeContext
from pyflink.datastream.state import ValueStateDescriptor

from common.rules.threshold import ThresholdCounter
from common.schema.alert import threshold_alert_id
from jobs.control.config import JobConfig
from jobs.elements import ThresholdCandidate
from jobs.metrics import JobMetrics
from jobs.sinks.dead_letter import DeadLetterSink
from jobs.sinks.elasticsearch.config import ElasticsearchSinkConfig
from jobs.sinks.elasticsearch.request_builder import alert_request
from jobs.sinks.elasticsearch.sink import ElasticsearchSink


class ThresholdAlerts(KeyedProcessFunction):
    def __init__(self, config: JobConfig, alerts_tag: OutputTag) -> None:
        self._config = config
        self._alerts_tag = alerts_tag
        self._counter: Any = None
        self._metrics = JobMetrics.detached()
        self._dead_letters = DeadLetterSink(config.kafka)
        self._alerts = ElasticsearchSink(ElasticsearchSinkConfig.from_job(config), self._dead_letters)

    def open(self, runtime_context: RuntimeContext) -> None:
        self._counter = runtime_context.get_state(ValueStateDescriptor("threshold-counter", Types.STRING()))
        self._metrics = JobMetrics(runtime_context.get_metrics_group())
        self._dead_letters.open()
        self._alerts.open(observer=self._metrics)

    def close(self) -> None:
        self._alerts.close()
        self._dead_letters.close()

    def process_element(self, value: ThresholdCandidate, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        _key, hit, ts_ms, doc_id = value
        stored = self._counter.value()
        counter = ThresholdCounter.from_state(json.loads(stored)) if stored else None
        if counter is None or counter.count != hit.count or counter.window_seconds != hit.window_seconds:
            counter = ThresholdCounter(
                hit.count, hit.window_seconds
            )  # new, or the rule's threshold was edited
        fired = counter.observe(hit.timestamp)
        self._counter.update(json.dumps(counter.to_state()))
        # Re-armed on every match; the state is cleared once the window has passed with no match.
        timers = ctx.timer_service()
        timers.register_processing_time_timer(
            timers.current_processing_time() + int(hit.window_seconds * 1000) + 1000
        )
        if not fired:
            return
        body, request = alert_request(
            hit.alert(), threshold_alert_id(doc_id, hit.rule_id), self._config.index_prefix, ts_ms
        )
        self._alerts.write([request])  # indexed before the element completes, like documents
        self._metrics.alert_raised()
        yield self._alerts_tag, body

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable[Any]:
        stored = self._counter.value()
        if stored and ThresholdCounter.from_state(json.loads(stored)).is_idle(timestamp / 1000):
            self._counter.clear()
        return ()  # PyFlink iterates the result even when there is nothing to emit
