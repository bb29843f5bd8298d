"""Metrics updated in timers are counted: against Beam's own state sampler and PyFlink's metric group.

The setting is what PyFlink's process mode builds per operation (a state sampler current on the
worker's thread, the operation's ``process`` state with its metrics container) and what it does
differently for timers (calls ``on_timer`` outside that state). Without ``TimerMetrics`` the
timer's updates vanish, as the first test shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apache_beam.metrics.execution import MetricsContainer
from apache_beam.runners.worker import statesampler
from apache_beam.utils.counters import CounterFactory
from flink_fakes import RecordingGroup
from pyflink.fn_execution.metrics.process.metric_impl import GenericMetricGroup

from jobs.metrics import GROUP, RECORDS_INDEXED, RULE_HITS, JobMetrics
from jobs.timer_metrics import TimerMetrics


class Operation:
    """The part of a Beam operation that metrics depend on: its container and ``process`` state."""

    def __init__(self, sampler: statesampler.StateSampler) -> None:
        self.container = MetricsContainer("normalize")
        self.process_state = sampler.scoped_state("normalize", "process", metrics_container=self.container)

    def counted(self, name: str, rule_id: str = "") -> int:
        """The container's count of ``name`` (of one rule's group when ``rule_id`` is given)."""
        counters = self.container.get_cumulative().counters
        return sum(
            int(count)
            for key, count in counters.items()
            if key.metric.name == name and rule_id in key.metric.namespace
        )


@pytest.fixture
def operation() -> Iterator[Operation]:
    sampler = statesampler.StateSampler("worker", CounterFactory())
    statesampler.set_current_tracker(sampler)
    try:
        yield Operation(sampler)
    finally:
        statesampler.set_current_tracker(None)


def job_metrics() -> JobMetrics:
    # What ``runtime_context.get_metrics_group()`` returns in a process-mode worker.
    return JobMetrics(GenericMetricGroup(None, None))


def test_without_the_process_state_beam_drops_a_timers_updates(operation: Operation) -> None:
    metrics = job_metrics()
    with operation.process_state:
        metrics.outcomes([])  # process_element: counted (zero increments create the series)
        metrics._inc(RECORDS_INDEXED, 2)
    metrics._inc(RECORDS_INDEXED, 5)  # on_timer as PyFlink calls it
    assert operation.counted(RECORDS_INDEXED) == 2


def test_a_timer_counts_in_the_state_its_elements_counted_in(operation: Operation) -> None:
    metrics = job_metrics()
    timers = TimerMetrics(metrics)
    with operation.process_state:
        timers.element_seen()
        metrics._inc(RECORDS_INDEXED, 2)
    with timers.counting():
        metrics._inc(RECORDS_INDEXED, 5)
        metrics.rule_hits("r1", 3)
    assert operation.counted(RECORDS_INDEXED) == 7
    assert operation.counted(RULE_HITS, "r1") == 3


def test_entering_the_state_again_restores_the_state_the_timer_ran_in(operation: Operation) -> None:
    timers = TimerMetrics(job_metrics())
    tracker: Any = statesampler.get_current_tracker()
    outside = tracker.current_state()
    with operation.process_state:
        timers.element_seen()
    with timers.counting():
        assert tracker.current_state() is operation.process_state
    assert tracker.current_state() is outside


def test_a_timer_before_any_element_is_counted_with_the_next_element(operation: Operation) -> None:
    metrics = job_metrics()
    timers = TimerMetrics(metrics)
    with timers.counting():  # a restored timer: no element yet, so no state to enter
        metrics._inc(RECORDS_INDEXED, 4)
        metrics.rule_hits("r1", 1)
    assert operation.counted(RECORDS_INDEXED) == 0
    with operation.process_state:
        timers.element_seen()
        metrics._inc(RECORDS_INDEXED, 1)
    assert operation.counted(RECORDS_INDEXED) == 5
    assert operation.counted(RULE_HITS, "r1") == 1


def test_outside_beam_there_is_no_state_and_updates_are_held_not_lost() -> None:
    group = RecordingGroup()
    metrics = JobMetrics(group)
    timers = TimerMetrics(metrics)
    timers.element_seen()  # no tracker: nothing remembered
    with timers.counting():
        metrics._inc(RECORDS_INDEXED, 3)
    assert group.counts() == {}
    metrics._inc(RECORDS_INDEXED, 0)
    assert group.counts() == {f"{GROUP}.{RECORDS_INDEXED}": 3}
