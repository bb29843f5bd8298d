"""Threshold alerts ("N matches within a window, grouped by fields") on Flink keyed state.

The rules engine reports each match of a thresholded ``alert`` action as a pending alert; this
operator, keyed by ``threshold_key(rule id, group values)``, keeps the rules core's
``ThresholdCounter`` for that key in checkpointed state, so counts survive failures and restores.
An idle counter's state is cleared by a processing-time timer. A fired alert is indexed before
the element completes (like every document, see ``jobs.sinks.bulk_writer``) and goes to the alerts
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
from jobs.config import JobConfig
from jobs.elements import ThresholdCandidate, alert_request
from jobs.sinks.elasticsearch_writer import ElasticsearchSink


class ThresholdAlerts(KeyedProcessFunction):
    def __init__(self, config: JobConfig, alerts_tag: OutputTag) -> None:
        self._config = config
        self._alerts_tag = alerts_tag
        self._counter: Any = None
        self._sink: ElasticsearchSink | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._counter = runtime_context.get_state(ValueStateDescriptor("threshold-counter", Types.STRING()))
        self._sink = ElasticsearchSink(self._config)
        self._sink.open()

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None

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
            hit.alert(), f"{doc_id}:threshold:{hit.rule_id}", self._config.index_prefix, ts_ms
        )
        assert self._sink is not None
        self._sink.writer.write([request])  # indexed before the element completes, like documents
        yield self._alerts_tag, body

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable[Any]:
        stored = self._counter.value()
        if stored and ThresholdCounter.from_state(json.loads(stored)).is_idle(timestamp / 1000):
            self._counter.clear()
        return ()  # PyFlink iterates the result even when there is nothing to emit
