"""Parse each Kafka record into an ECS document and apply the broadcast rules to it.

Main output: ``WriteRequest`` tuples for the Elasticsearch writer (documents, alerts, and dead
letters for records that could not be processed). Side outputs: alert JSON for the alerts topic,
threshold candidates for the keyed threshold counter, and statistics for dropped records.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row, RowKind
from pyflink.datastream import BroadcastProcessFunction, OutputTag, RuntimeContext
from pyflink.datastream.state import MapStateDescriptor

from jobs.config import JobConfig
from jobs.elements import (
    DEAD_LETTERED,
    DEADLETTER,
    DOC,
    DROPPED,
    INDEXED,
    alert_request,
    dead_letter,
    document_id,
    index_name,
    is_late,
    stat_for,
    to_json,
)
from jobs.transforms.rule_set import ActiveRules, RuleChange
from jobs.transforms.threshold import threshold_candidate

log = logging.getLogger(__name__)


class NormalizeAndApplyRules(BroadcastProcessFunction):
    def __init__(
        self,
        config: JobConfig,
        rules_state: MapStateDescriptor,
        alerts_tag: OutputTag,
        threshold_tag: OutputTag,
        stats_tag: OutputTag,
    ) -> None:
        self._config = config
        self._rules_state = rules_state
        self._alerts_tag = alerts_tag
        self._threshold_tag = threshold_tag
        self._stats_tag = stats_tag
        self._rules: ActiveRules | None = None
        self._parse: Any = None
        self._options: Any = None

    def open(self, runtime_context: RuntimeContext) -> None:
        from common.parsing import ParseOptions, parse_message

        self._parse = parse_message
        self._options = ParseOptions.from_env()
        self._rules = None

    def close(self) -> None:
        # The engine runs durable-rules in child processes; stop them with the worker.
        if self._rules is not None:
            self._rules.engine.close()
            self._rules = None

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
            change = (
                RuleChange(rule_id=rule_id, version=-1, rule=None)
                if kind == RowKind.DELETE
                else RuleChange.from_payload(rule_id, value[1])
            )
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
        payload, topic, partition, offset = value[0], value[1], value[2], value[3]
        ts_ms = ctx.timestamp()
        ts_ms = int(ts_ms) if ts_ms is not None else 0
        raw = bytes(payload) if payload is not None else b""
        try:
            yield from self._process(raw, topic, partition, offset, ts_ms, ctx)
        except Exception as exc:  # a bug or hostile input must cost one record, never the job
            log.exception("record %s:%s:%s could not be processed", topic, partition, offset)
            original = raw.decode("utf-8", errors="backslashreplace")
            letter = dead_letter(
                "processing_error",
                "".join(traceback.format_exception_only(type(exc), exc)).strip(),
                original=original,
                topic=topic,
                partition=partition,
                offset=offset,
                kafka_ts_ms=ts_ms,
            )
            late = is_late(ts_ms, ctx.current_watermark(), self._config.window_seconds)
            stat = (ts_ms, DEAD_LETTERED, "unknown", "-", "-", (), 1, late)
            yield DEADLETTER, document_id(topic, partition, offset), "", letter, stat

    def _process(
        self, raw: bytes, topic: str, partition: int, offset: int, ts_ms: int, ctx: Any
    ) -> Iterator[Any]:
        record = self._parse(raw, self._options)
        doc_id = document_id(topic, partition, offset)
        event = record.setdefault("event", {})
        event["id"] = doc_id
        record["logflow"] = {"kafka": {"topic": topic, "partition": partition, "offset": offset}}
        result = self._active_rules(ctx).engine.apply_batch([record])[0]
        record = result.record
        late = is_late(ts_ms, ctx.current_watermark(), self._config.window_seconds)
        if result.dropped:
            yield self._stats_tag, stat_for(record, ts_ms, DROPPED, result.hits, late)
        else:
            dataset = str(record.get("event", {}).get("dataset") or "unknown")
            yield (
                DOC,
                doc_id,
                index_name(self._config.index_prefix, dataset, ts_ms),
                to_json(record),
                stat_for(record, ts_ms, INDEXED, result.hits, late),
            )
        for hit in result.threshold_hits:
            yield self._threshold_tag, threshold_candidate(hit, ts_ms, doc_id)
        for seq, alert in enumerate(result.alerts):
            body, request = alert_request(alert, f"{doc_id}:alert:{seq}", self._config.index_prefix, ts_ms)
            yield self._alerts_tag, body
            yield request
