"""The job's own metrics on the TaskManagers' Prometheus endpoints move by exactly what was produced.

A private pipeline (see e2e_harness) gets a drop rule and an alert rule, then a known mix of lines:
valid ones, lines of no known format, lines the drop rule drops, lines that raise alerts and lines
Elasticsearch rejects. Every TaskManager's endpoint is scraped before and after (summed over
TaskManagers and subtasks, filtered to this job's id), and each ``logflow`` counter must have moved
by exactly the number of such lines. docs/metrics.md describes the metrics.
"""

from __future__ import annotations

import json
import time
from typing import Any

import flink_metrics
import pytest
from e2e_harness import Pipeline, await_rule_in_force, wait_for

from jobs.metrics import rule_set_version

pytestmark = pytest.mark.e2e

NORMALIZE = flink_metrics.label_value("normalize, apply rules and write to elasticsearch")


def _totals(pipeline: Pipeline) -> dict[str, float]:
    return flink_metrics.logflow_totals(flink_metrics.scrape(pipeline.job_id))


def _settled(pipeline: Pipeline) -> dict[str, float]:
    """The totals once two scrapes a few bundles apart agree (nothing in flight)."""

    def stable() -> dict[str, float] | None:
        first = _totals(pipeline)
        time.sleep(2)
        second = _totals(pipeline)
        return second if first == second and second else None

    settled: dict[str, float] = wait_for("the job's counters to settle", stable, 60, 0.5)
    return settled


def _delta(after: dict[str, float], before: dict[str, float], name: str) -> int:
    return round(after.get(name, 0.0) - before.get(name, 0.0))


def _create(pipeline: Pipeline, rule: dict[str, Any]) -> None:
    response = pipeline.api("POST", "/rules", json=rule)
    assert response.status_code == 201, response.text


def test_counters_move_by_exactly_the_lines_produced(pipeline: Pipeline) -> None:
    marker = f"metrics-{time.time_ns()}"
    drop_id, alert_id = f"drop-{marker}", f"alert-{marker}"
    _create(
        pipeline,
        {
            "id": drop_id,
            "enabled": True,
            "priority": 100,
            "when": {"all": [{"field": "message", "op": "contains", "value": f"{marker} noise"}]},
            "then": [{"action": "drop"}],
        },
    )
    _create(
        pipeline,
        {
            "id": alert_id,
            "enabled": True,
            "priority": 50,
            "when": {"all": [{"field": "message", "op": "contains", "value": f"{marker} failure"}]},
            "then": [
                {"action": "tag", "value": "alerted"},
                {"action": "alert", "severity": "high", "message": "failure on {host.name}"},
            ],
        },
    )
    # A probe the alert rule tags: both rules are in force.
    await_rule_in_force(pipeline, f"{marker} failure", lambda source: "alerted" in source.get("tags", []))
    before = _settled(pipeline)

    valid = [f"Nov 22 10:00:{i:02d} web-{i % 3} app[7]: {marker} ok {i}" for i in range(12)]
    unknown = [f"zzqx-{marker} ### {i} ~~" for i in range(4)]
    dropped = [f"Nov 22 10:00:00 db1 app[1]: {marker} noise {i}" for i in range(5)]
    alerting = [f"Nov 22 10:00:00 db1 app[1]: {marker} failure {i}" for i in range(3)]
    # An ECS JSON log keeps its own fields, so its bad source.ip reaches the ip-typed mapping.
    rejected = [
        json.dumps(
            {
                "@timestamp": "2026-11-22T10:00:00Z",
                "ecs": {"version": "8.11"},
                "message": f"breaks mapping {marker} {i}",
                "source": {"ip": "not-an-ip"},
            }
        )
        for i in range(2)
    ]
    lines = valid + unknown + dropped + alerting + rejected
    pipeline.produce(lines)

    consumed = ("records_indexed", "records_dropped", "records_dead_lettered")
    moved: dict[str, int] = {}

    def counted_all() -> bool:
        totals = _totals(pipeline)
        moved.update({name: _delta(totals, before, name) for name in consumed})
        return sum(moved.values()) >= len(lines)

    try:
        wait_for(f"the outcome counters to count {len(lines)} more records", counted_all, 120, 1.0)
    except AssertionError as exc:
        # What moved, and what Elasticsearch holds, tell a lost record from an uncounted one.
        indexed = pipeline.count({"match_phrase": {"message": marker}})
        raise AssertionError(
            f"{exc}; counters moved by {moved}; documents with the marker: {indexed}"
        ) from None
    after = _settled(pipeline)

    def delta(name: str) -> int:
        return _delta(after, before, name)

    assert delta("records_indexed") == len(valid) + len(unknown) + len(alerting), after
    assert delta("records_dropped") == len(dropped)
    assert delta("records_dead_lettered") == len(rejected)
    assert delta("records_late") == 0
    assert delta("alerts") == len(alerting)
    assert delta("records_unknown_format") == len(unknown)
    assert delta("parse_errors") == 0
    assert delta("processing_errors") == 0
    # Flink's reporter writes label values with every character outside [a-zA-Z0-9:_] as _.
    assert delta(f"rule_hits:{flink_metrics.label_value(drop_id)}") == len(dropped)
    assert delta(f"rule_hits:{flink_metrics.label_value(alert_id)}") == len(alerting)
    assert delta("es_rejected_documents") == len(rejected)
    assert delta("es_bulk_retries") == 0
    assert delta("es_bulk_requests") >= 1
    assert delta("rule_engine_batches") >= 1
    assert delta("redis_write_errors") == 0

    # Every subtask of the parsing operator holds both rules, and the same rule set.
    samples = flink_metrics.scrape(pipeline.job_id)
    gauges = [s for s in samples if s.labels.get("operator_name") == NORMALIZE]
    active = [s.value for s in gauges if s.name == flink_metrics.LOGFLOW_PREFIX + "rules_active"]
    versions = {s.value for s in gauges if s.name == flink_metrics.LOGFLOW_PREFIX + "rules_version"}
    assert active and set(active) == {2.0}, gauges
    exported = pipeline.api("GET", "/rules:export").json()["versions"]
    assert versions == {float(rule_set_version(exported))}


def test_kafka_consumer_lag_per_partition_is_zero_once_everything_is_read(pipeline: Pipeline) -> None:
    # The Kafka source's own metrics (docs/metrics.md): per partition, the offset of the last record
    # read (currentOffset) and the offset committed at the last checkpoint (committedOffset, the
    # next one to read); per source reader, the records not yet fetched (pendingRecords).
    pipeline.produce([f"Nov 22 10:00:00 lag app[{i}]: lag probe {i}" for i in range(8)])
    end_offsets = {str(p): float(end) for p, end in _end_offsets(pipeline.logs_topic).items()}
    topic = flink_metrics.label_value(pipeline.logs_topic)
    source = "Source:_logflow_log_records"

    def offsets(name: str) -> dict[str, float]:
        return {
            s.labels["partition"]: s.value
            for s in flink_metrics.scrape(pipeline.job_id)
            if s.name == f"{flink_metrics.OPERATOR_PREFIX}KafkaSourceReader_topic_partition_{name}"
            and s.labels.get("topic") == topic
        }

    # Lag = end offset - (currentOffset + 1): 0 on every partition once the job has read everything.
    read_up_to = {partition: end - 1 for partition, end in end_offsets.items()}
    wait_for(f"current offsets {read_up_to}", lambda: offsets("currentOffset") == read_up_to, 60, 1.0)
    # Checkpoints (every 2 s here) commit the next offset to read.
    wait_for(f"committed offsets {end_offsets}", lambda: offsets("committedOffset") == end_offsets, 60, 1.0)
    pending = [
        s.value
        for s in flink_metrics.scrape(pipeline.job_id)
        if s.name == flink_metrics.OPERATOR_PREFIX + "pendingRecords"
        and s.labels.get("operator_name", "").startswith(source)
    ]
    assert pending and set(pending) == {0.0}


def _end_offsets(topic: str) -> dict[int, int]:
    from confluent_kafka import Consumer, TopicPartition

    from common.settings import KafkaSettings

    consumer = Consumer({**KafkaSettings.from_env().client_config(), "group.id": f"offsets-{time.time_ns()}"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in (0, 1)}
    finally:
        consumer.close()
