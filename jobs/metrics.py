"""The job's own metrics, defined in one place: names, what increments them, and when.

Every metric is registered in a ``logflow`` group of the operator's metric group, so Flink's
Prometheus reporter shows it as ``flink_taskmanager_job_task_operator_logflow_<name>`` with the
operator's labels (``job_id``, ``job_name``, ``operator_name``, ``subtask_index``, ...);
docs/metrics.md lists them all. Free of PyFlink: the operators hand in their metric group
(``runtime_context.get_metrics_group()``), and the sinks see only the small observer interfaces
below, whose defaults do nothing, so they stay testable without Flink.

PyFlink's Python metrics travel to the JVM at the end of each bundle, so a value reaches Prometheus
up to one bundle (``LOGFLOW_BUNDLE_TIME_MS``) after it changed. Histograms do not exist for Python
functions, and a Python ``distribution`` becomes a gauge that the Prometheus reporter cannot export,
so latencies are a pair of counters (milliseconds summed, and how many), which ``rate`` of one over
the other turns into a mean. Counters are incremented by zero as well: a series appears with the
first batch instead of the first occurrence, so ``increase()`` works from then on.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from common.schema.stats import DEAD_LETTERED, DROPPED, INDEXED, Stat

if TYPE_CHECKING:
    from common.rules.engine import RuleResult
    from common.schema.ecs import EcsRecord

GROUP = "logflow"

# Counter names (Prometheus: flink_taskmanager_job_task_operator_logflow_<name>).
RECORDS_INDEXED = "records_indexed"
RECORDS_DROPPED = "records_dropped"
RECORDS_DEAD_LETTERED = "records_dead_lettered"
RECORDS_LATE = "records_late"
ALERTS = "alerts"
UNKNOWN_FORMAT = "records_unknown_format"
PARSE_ERRORS = "parse_errors"
PROCESSING_ERRORS = "processing_errors"
RULE_ENGINE_MS = "rule_engine_ms"
RULE_ENGINE_BATCHES = "rule_engine_batches"
RULE_HITS = "hits"  # in a ("rule", <id>) group: ..._logflow_rule_hits{rule="<id>"}
RULES_ACTIVE = "rules_active"  # gauge
RULES_VERSION = "rules_version"  # gauge
RULES_REJECTED = "rules_rejected"  # gauge: changes refused since the instance started
ES_BULK_MS = "es_bulk_ms"
ES_BULK_REQUESTS = "es_bulk_requests"
ES_BULK_RETRIES = "es_bulk_retries"
ES_REJECTED_DOCUMENTS = "es_rejected_documents"
REDIS_WRITES = "redis_writes"
REDIS_WRITE_ERRORS = "redis_write_errors"

# How Flink's Prometheus reporter names them: the operator scope, the group, the name.
PROMETHEUS_PREFIX = f"flink_taskmanager_job_task_operator_{GROUP}_"
PROMETHEUS_NAMES: tuple[str, ...] = tuple(
    PROMETHEUS_PREFIX + name
    for name in (
        RECORDS_INDEXED,
        RECORDS_DROPPED,
        RECORDS_DEAD_LETTERED,
        RECORDS_LATE,
        ALERTS,
        UNKNOWN_FORMAT,
        PARSE_ERRORS,
        PROCESSING_ERRORS,
        RULE_ENGINE_MS,
        RULE_ENGINE_BATCHES,
        f"rule_{RULE_HITS}",
        RULES_ACTIVE,
        RULES_VERSION,
        RULES_REJECTED,
        ES_BULK_MS,
        ES_BULK_REQUESTS,
        ES_BULK_RETRIES,
        ES_REJECTED_DOCUMENTS,
        REDIS_WRITES,
        REDIS_WRITE_ERRORS,
    )
)

_OUTCOME_COUNTERS = {INDEXED: RECORDS_INDEXED, DROPPED: RECORDS_DROPPED, DEAD_LETTERED: RECORDS_DEAD_LETTERED}


class Counter(Protocol):
    def inc(self, n: int = 1) -> None: ...


class MetricGroup(Protocol):
    """The part of ``pyflink.metrics.MetricGroup`` used here."""

    def add_group(self, name: str, extra: str | None = None) -> MetricGroup: ...

    def counter(self, name: str) -> Counter: ...

    def gauge(self, name: str, obj: Callable[[], int]) -> None: ...


class ElasticsearchObserver:
    """What the Elasticsearch sink reports; this base ignores it (the sink's default)."""

    def bulk_request(self, latency_ms: float) -> None:
        """One bulk request answered or failed after ``latency_ms``."""

    def bulk_retry(self) -> None:
        """A backoff before sending documents again (a failed request or per-document 429s)."""

    def documents_rejected(self, count: int) -> None:
        """Documents Elasticsearch refused for good (they go to the dead letters)."""


class RedisObserver:
    """What the Redis statistics sink reports; this base ignores it (the sink's default)."""

    def redis_write(self) -> None:
        """One window write (or late increment) that Redis acknowledged."""

    def redis_write_error(self) -> None:
        """One write attempt that failed and will be retried."""


class BatchCounts(Protocol):
    """What a processed batch knows about its records (``jobs.operators.batch.BatchOutput``)."""

    alerts: list[str]
    unknown_format: int
    parse_errors: int
    processing_errors: int


class RuleApplier(Protocol):
    def apply_batch(self, records: list[EcsRecord]) -> list[RuleResult]: ...


class _Engine(Protocol):
    @property
    def rules(self) -> Mapping[str, object]: ...


class RuleSetView(Protocol):
    """What the gauges read of ``jobs.operators.rule_set.ActiveRules``."""

    @property
    def engine(self) -> _Engine: ...

    @property
    def versions(self) -> Mapping[str, int]: ...

    @property
    def rejected(self) -> int: ...


class JobMetrics(ElasticsearchObserver, RedisObserver):
    """The ``logflow`` metrics of one operator instance; counters are created on first use."""

    def __init__(self, group: MetricGroup, clock: Callable[[], float] = time.perf_counter) -> None:
        self._group = group.add_group(GROUP)
        self._counters: dict[str, Counter] = {}
        self._rule_hits: dict[str, Counter] = {}
        self._clock = clock
        # Updates made where the runtime would drop them (jobs.timer_metrics), keyed by
        # (rule id or None, counter name), reported with the next update made where it counts.
        self._held: dict[tuple[str | None, str], int] = {}
        self._holding = False

    @contextmanager
    def held(self) -> Iterator[None]:
        """Within this, updates are kept back and reported with the first update made after it."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _inc(self, name: str, n: int = 1, rule_id: str | None = None) -> None:
        if self._holding:
            key = (rule_id, name)
            self._held[key] = self._held.get(key, 0) + n
            return
        if self._held:
            held, self._held = self._held, {}
            for (held_rule, held_name), count in held.items():
                self._counter(held_name, held_rule).inc(count)
        self._counter(name, rule_id).inc(n)

    def _counter(self, name: str, rule_id: str | None) -> Counter:
        if rule_id is not None:
            # One series per rule id: bounded by the rules that exist, which operators curate.
            hits = self._rule_hits.get(rule_id)
            if hits is None:
                hits = self._rule_hits[rule_id] = self._group.add_group("rule", rule_id).counter(name)
            return hits
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = self._group.counter(name)
        return counter

    @classmethod
    def detached(cls) -> JobMetrics:
        """Metrics that go nowhere: what an operator holds until ``open`` gives it its group."""
        return cls(_NoGroup())

    # ---- normalize-and-apply-rules --------------------------------------------------------

    def outcomes(self, stats: Iterable[Stat]) -> None:
        """Count what became of a batch's events, from the statistics it emits."""
        counts = dict.fromkeys(_OUTCOME_COUNTERS.values(), 0)
        late = 0
        hits: dict[str, int] = {}
        for stat in stats:
            counts[_OUTCOME_COUNTERS[stat.outcome]] += stat.events
            if stat.late:
                late += stat.events
            for rule_id in stat.rules:
                hits[rule_id] = hits.get(rule_id, 0) + stat.events
        for name, count in counts.items():
            self._inc(name, count)
        self._inc(RECORDS_LATE, late)
        for rule_id, count in hits.items():
            self.rule_hits(rule_id, count)

    def batch(self, out: BatchCounts) -> None:
        """Count what the parse-and-rules step of one slice found."""
        self._inc(ALERTS, len(out.alerts))
        self._inc(UNKNOWN_FORMAT, out.unknown_format)
        self._inc(PARSE_ERRORS, out.parse_errors)
        self._inc(PROCESSING_ERRORS, out.processing_errors)

    def alert_raised(self) -> None:
        """One threshold alert (the per-event alerts are counted by ``batch``)."""
        self._inc(ALERTS)

    def rule_hits(self, rule_id: str, count: int) -> None:
        self._inc(RULE_HITS, count, rule_id)

    def timed_rules(self, rules: RuleApplier) -> RuleApplier:
        """``rules`` with the time of every ``apply_batch`` counted."""
        return _TimedRules(rules, self)

    def rules_applied(self, elapsed_ms: float) -> None:
        self._inc(RULE_ENGINE_MS, round(elapsed_ms))
        self._inc(RULE_ENGINE_BATCHES)

    def watch_rules(self, current: Callable[[], RuleSetView | None]) -> None:
        """Gauges of the rule set ``current()`` returns, read at the end of every bundle."""

        def read(what: Callable[[RuleSetView], int]) -> Callable[[], int]:
            return lambda: what(rules) if (rules := current()) is not None else 0

        self._group.gauge(RULES_ACTIVE, read(lambda rules: len(rules.engine.rules)))
        self._group.gauge(RULES_VERSION, read(lambda rules: rule_set_version(rules.versions)))
        self._group.gauge(RULES_REJECTED, read(lambda rules: rules.rejected))

    # ---- sinks ----------------------------------------------------------------------------

    def bulk_request(self, latency_ms: float) -> None:
        self._inc(ES_BULK_MS, round(latency_ms))
        self._inc(ES_BULK_REQUESTS)
        self._inc(ES_BULK_RETRIES, 0)
        self._inc(ES_REJECTED_DOCUMENTS, 0)

    def bulk_retry(self) -> None:
        self._inc(ES_BULK_RETRIES)

    def documents_rejected(self, count: int) -> None:
        self._inc(ES_REJECTED_DOCUMENTS, count)

    def redis_write(self) -> None:
        self._inc(REDIS_WRITES)
        self._inc(REDIS_WRITE_ERRORS, 0)

    def redis_write_error(self) -> None:
        self._inc(REDIS_WRITE_ERRORS)


class _NoCounter:
    def inc(self, n: int = 1) -> None:
        pass


class _NoGroup:
    def add_group(self, name: str, extra: str | None = None) -> MetricGroup:
        return self

    def counter(self, name: str) -> Counter:
        return _NoCounter()

    def gauge(self, name: str, obj: Callable[[], int]) -> None:
        pass


class _TimedRules:
    def __init__(self, rules: RuleApplier, metrics: JobMetrics) -> None:
        self._rules = rules
        self._metrics = metrics

    def apply_batch(self, records: list[EcsRecord]) -> list[RuleResult]:
        started = self._metrics._clock()
        try:
            return self._rules.apply_batch(records)
        finally:
            self._metrics.rules_applied((self._metrics._clock() - started) * 1000)


def rule_set_version(versions: Mapping[str, int]) -> int:
    """A number naming a rule set: the same on every instance holding the same rule versions.

    Rules are versioned one by one, so the set has no version of its own; this digest of the
    (id, version) pairs changes with every change and is equal across subtasks that agree. 48 bits,
    so that Prometheus' float64 holds it exactly. 0 for no rules.
    """
    if not versions:
        return 0
    text = "\n".join(f"{rule_id}\t{version}" for rule_id, version in sorted(versions.items()))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big")
