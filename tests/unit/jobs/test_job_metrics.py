"""The job's metrics without Flink: what each hook counts, through a recording metric group."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flink_fakes import RecordingGroup
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from common.parsing import ParseOptions, parse_messages
from common.rules import RuleEngine
from common.schema.stats import DEAD_LETTERED, DROPPED, INDEXED, Stat, StatsKeys, WindowStats
from common.settings import RedisSettings
from jobs.elements import DEADLETTER, DOC
from jobs.metrics import JobMetrics, rule_set_version
from jobs.operators.batch import BatchContext, process_batch
from jobs.operators.rule_set import ActiveRules
from jobs.sinks import redis_stats
from jobs.sinks.elasticsearch.retry import TransientBulkError
from jobs.sinks.elasticsearch.sink import MAX_DOCUMENT_BYTES, BulkWriter
from jobs.sinks.redis_stats import RedisStatsSink

TS = 1795391990000


def stat(outcome: str, events: int, rules: tuple[str, ...] = (), late: bool = False) -> Stat:
    return Stat(TS, outcome, "syslog", "web", "info", rules, events, late)


def test_outcomes_count_events_by_outcome_lateness_and_rule_hit() -> None:
    group = RecordingGroup()
    metrics = JobMetrics(group)
    metrics.outcomes(
        [
            stat(INDEXED, 7, ("tag-a",)),
            stat(INDEXED, 2, late=True),
            stat(DROPPED, 3, ("drop-b", "tag-a")),
            stat(DEAD_LETTERED, 1),
        ]
    )
    metrics.outcomes([stat(INDEXED, 1)])
    assert group.counts() == {
        "logflow.records_indexed": 10,
        "logflow.records_dropped": 3,
        "logflow.records_dead_lettered": 1,
        "logflow.records_late": 2,
        "logflow.rule.tag-a.hits": 10,
        "logflow.rule.drop-b.hits": 3,
    }


def test_every_outcome_series_exists_from_the_first_batch_even_at_zero() -> None:
    group = RecordingGroup()
    JobMetrics(group).outcomes([])
    assert group.counts() == {
        "logflow.records_indexed": 0,
        "logflow.records_dropped": 0,
        "logflow.records_dead_lettered": 0,
        "logflow.records_late": 0,
    }


@pytest.fixture(scope="module")
def engine() -> Iterator[RuleEngine]:
    with RuleEngine(count_thresholds=False) as rule_engine:
        yield rule_engine


def test_a_batch_counts_unknown_formats_parse_errors_alerts_and_rule_engine_time(engine: RuleEngine) -> None:
    engine.replace_all(
        [
            {
                "id": "alert-fail",
                "enabled": True,
                "priority": 1,
                "when": {"all": [{"field": "message", "op": "contains", "value": "failed"}]},
                "then": [{"action": "alert", "severity": "high", "message": "failure"}],
            }
        ]
    )

    def parse(raw: bytes) -> list[dict[str, Any]]:
        if raw == b"boom":
            raise ValueError("parser bug")
        return parse_messages(raw, ParseOptions())

    group = RecordingGroup()
    ticks = iter([1.0, 1.25])
    metrics = JobMetrics(group, clock=lambda: next(ticks))
    ctx = BatchContext(
        parse=parse, engine=metrics.timed_rules(engine), index_prefix="logs", window_seconds=60
    )
    lines = [b"zzqx ### ~~", b"qqq !!! %%", b"Nov 22 23:59:50 web sshd[1]: login failed", b"boom"]
    out = process_batch([(line, "logs", 0, i, TS) for i, line in enumerate(lines)], 0, ctx)
    metrics.batch(out)
    assert [w[0] for w in out.writes].count(DEADLETTER) == 1
    assert group.counts() == {
        "logflow.rule_engine_ms": 250,
        "logflow.rule_engine_batches": 1,
        "logflow.alerts": 1,
        "logflow.records_unknown_format": 2,
        "logflow.parse_errors": 0,
        "logflow.processing_errors": 1,
    }


def test_a_record_a_parser_choked_on_counts_as_a_parse_error_and_unknown_format() -> None:
    class Echo:
        def apply_batch(self, records: list[dict[str, Any]]) -> list[Any]:
            from common.rules.engine import RuleResult

            return [RuleResult(r) for r in records]

    def choked(raw: bytes) -> list[dict[str, Any]]:
        return [{"message": "x", "event": {"dataset": "unknown"}, "tags": ["_parse_failure", "_parse_error"]}]

    ctx = BatchContext(parse=choked, engine=Echo(), index_prefix="logs", window_seconds=60)
    out = process_batch([(b"x", "logs", 0, 1, TS)], 0, ctx)
    assert (out.unknown_format, out.parse_errors, out.processing_errors) == (1, 1, 0)


def test_rule_set_gauges_read_the_active_rules_when_asked() -> None:
    group = RecordingGroup()
    rules: list[ActiveRules] = []
    JobMetrics(group).watch_rules(lambda: rules[0] if rules else None)
    gauges = {path: read for path, read in group.registry.items() if callable(read)}
    assert {path: read() for path, read in gauges.items()} == {
        "logflow.rules_active": 0,
        "logflow.rules_version": 0,
        "logflow.rules_rejected": 0,
    }
    from common.schema.rules_topic import RuleChange

    active = ActiveRules()
    try:
        rule = {
            "id": "r1",
            "enabled": True,
            "priority": 1,
            "when": {"all": [{"field": "message", "op": "contains", "value": "x"}]},
            "then": [{"action": "tag", "value": "t"}],
        }
        assert active.apply(RuleChange("r1", 3, rule))
        assert active.apply(RuleChange("r2", 1, {**rule, "id": "r2", "enabled": False}))
        rules.append(active)
        assert gauges["logflow.rules_active"]() == 1  # a disabled rule is known but not in force
        assert gauges["logflow.rules_version"]() == rule_set_version({"r1": 3, "r2": 1})
    finally:
        active.engine.close()


def test_the_rule_set_version_names_the_versions_held() -> None:
    assert rule_set_version({}) == 0
    assert rule_set_version({"a": 1, "b": 2}) == rule_set_version({"b": 2, "a": 1})
    assert rule_set_version({"a": 1, "b": 2}) != rule_set_version({"a": 2, "b": 2})
    assert 0 < rule_set_version({"a": 1}) < 2**48  # exact in a float64


class ScriptedSender:
    def __init__(self, script: list[Any]) -> None:
        self.script = script

    def __call__(self, lines: list[str]) -> Any:
        step: Any = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        statuses: list[int] = [200] * (len(lines) // 2) if step == "ok" else step
        items = [
            {"index": {"status": s, "error": {"type": "mapper_parsing_exception", "reason": "bad"}}}
            if s >= 400
            else {"index": {"status": s}}
            for s in statuses
        ]
        return {"errors": True, "items": items}


class NoDeadLetters:
    def send_all(self, topic: str, messages: list[tuple[str, str]]) -> None:
        pass


def test_the_bulk_writer_reports_requests_retries_and_rejections() -> None:
    group = RecordingGroup()
    metrics = JobMetrics(group)
    sender = ScriptedSender([TransientBulkError("refused"), [200, 429, 400], "ok"])
    writer = BulkWriter(sender, NoDeadLetters(), "dlq", sleep=lambda _: None, observer=metrics)
    doc_stat = stat(INDEXED, 1)
    writer.write(
        [
            (DOC, "a", "logs-x", "{}", doc_stat),
            (DOC, "b", "logs-x", "{}", doc_stat),
            (DOC, "c", "logs-x", "{}", doc_stat),
            (DOC, "d", "logs-x", "x" * (MAX_DOCUMENT_BYTES + 1), doc_stat),
            (DEADLETTER, "e", "", "{}", doc_stat),  # dead-lettered upstream: not a rejection
        ]
    )
    counts = group.counts()
    assert counts["logflow.es_bulk_requests"] == 3  # refused, partial, the retried 429
    assert counts["logflow.es_bulk_retries"] == 2
    assert counts["logflow.es_rejected_documents"] == 2  # the 400 and the oversized one
    assert counts["logflow.es_bulk_ms"] >= 0


def test_a_writer_without_an_observer_reports_nothing_and_still_writes() -> None:
    writer = BulkWriter(ScriptedSender(["ok"]), NoDeadLetters(), "dlq", sleep=lambda _: None)
    assert writer.write([(DOC, "a", "logs-x", "{}", stat(INDEXED, 1))]) == [stat(INDEXED, 1)]


def _sink(group: RecordingGroup, sleeps: list[float]) -> RedisStatsSink:
    sink = RedisStatsSink(RedisSettings(), StatsKeys(), 60, sleep=sleeps.append)
    sink.open(observer=JobMetrics(group))  # the client connects lazily: nothing is reached here
    return sink


def test_redis_writes_are_retried_with_backoff_and_each_failure_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failures = [RedisConnectionError("refused"), RedisConnectionError("refused")]
    written: list[int] = []

    def write_window(client: Any, keys: StatsKeys, stats: WindowStats, ttl: int) -> None:
        if failures:
            raise failures.pop(0)
        written.append(stats.start)

    monkeypatch.setattr(redis_stats, "write_window", write_window)
    group, sleeps = RecordingGroup(), list[float]()
    sink = _sink(group, sleeps)
    try:
        sink.write_window(WindowStats(start=60, end=120))
    finally:
        sink.close()
    assert written == [60]
    assert sleeps == [0.2, 0.4]
    assert group.counts() == {"logflow.redis_writes": 1, "logflow.redis_write_errors": 2}


def test_a_command_redis_refuses_is_counted_and_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def add_late(client: Any, keys: StatsKeys, start: int, count: int, ttl: int) -> None:
        raise ResponseError("WRONGTYPE")

    monkeypatch.setattr(redis_stats, "add_late", add_late)
    group, sleeps = RecordingGroup(), list[float]()
    sink = _sink(group, sleeps)
    try:
        with pytest.raises(ResponseError):
            sink.add_late(60, 2)
    finally:
        sink.close()
    assert sleeps == []
    assert group.counts() == {"logflow.redis_write_errors": 1}
