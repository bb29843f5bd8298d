"""The window statistics' timers: every count registers them again at the same times, so a window
is written even when the registrations of one bundle were lost (PyFlink snapshots a checkpoint
before it registers the timers of the bundle the checkpoint barrier finished)."""

from __future__ import annotations

from typing import Any

from flink_fakes import FakeContext, FakeTimers
from pyflink.datastream import TimeDomain

from common.schema.stats import INDEXED, Stat, WindowStats
from jobs.control.config import JobConfig
from jobs.operators.window_stats import WindowStatistics, rewrite_at

WINDOW_S = 10
START = 1_796_441_880


class FakeState:
    def __init__(self) -> None:
        self.current: Any = None

    def value(self) -> Any:
        return self.current

    def update(self, value: Any) -> None:
        self.current = value

    def clear(self) -> None:
        self.current = None


class RecordingSink:
    def __init__(self) -> None:
        self.written: list[int] = []

    def write_window(self, stats: WindowStats) -> None:
        self.written.append(stats.total)

    def add_late(self, start: int, count: int) -> None:
        raise AssertionError("no late events here")


def _operator() -> tuple[WindowStatistics, FakeState, RecordingSink]:
    operator = WindowStatistics(JobConfig(window_seconds=WINDOW_S))
    state, sink = FakeState(), RecordingSink()
    operator._state = state
    operator._redis_stats = sink  # type: ignore[assignment]
    return operator, state, sink


def _stat(events: int) -> Stat:
    return Stat(START * 1000 + 500, INDEXED, "syslog", "h", "info", (), events, False)


def test_every_count_registers_the_windows_timers_again_at_the_same_times() -> None:
    operator, _state, sink = _operator()
    timers = FakeTimers(now=START * 1000)
    operator.process_element(_stat(3), FakeContext(timers, key=START))
    first_processing, first_event = set(timers.processing), set(timers.event)
    assert first_event == {(START + WINDOW_S) * 1000 - 1} and len(first_processing) == 1

    # The registrations of the first count are lost (a restore from the checkpoint that finished
    # its bundle); the next count, later, registers the very same timers again.
    timers.processing.clear()
    timers.event.clear()
    timers.now += 300
    operator.process_element(_stat(2), FakeContext(timers, key=START))
    assert timers.processing == first_processing and timers.event == first_event

    (close_at,) = first_processing
    timers.now = close_at
    operator.on_timer(close_at, FakeContext(timers, TimeDomain.PROCESSING_TIME, key=START))
    assert sink.written == [5]


def test_counts_after_the_first_write_register_the_rewrite_on_a_grid_and_the_retirement_again() -> None:
    operator, state, sink = _operator()
    timers = FakeTimers(now=START * 1000)
    operator.process_element(_stat(1), FakeContext(timers, key=START))
    operator.on_timer((START + WINDOW_S) * 1000 - 1, FakeContext(timers, TimeDomain.EVENT_TIME, key=START))
    assert sink.written == [1]
    retire_at = state.value().retire_at
    assert retire_at in timers.processing

    for offset in (10, 250, 400):  # three counts in one rewrite period: one rewrite timer
        timers.processing.clear()
        timers.now = START * 1000 + 20_000 + offset
        operator.process_element(_stat(1), FakeContext(timers, key=START))
        assert timers.processing == {rewrite_at(START * 1000 + 20_010), retire_at}
    timers.now = rewrite_at(START * 1000 + 20_010)
    operator.on_timer(timers.now, FakeContext(timers, TimeDomain.PROCESSING_TIME, key=START))
    assert sink.written == [1, 4]


def test_a_touch_registers_a_windows_timers_again_and_counts_nothing() -> None:
    from common.schema.stats import touch_stats

    operator, state, _sink = _operator()
    timers = FakeTimers(now=START * 1000)
    (touch,) = touch_stats(START * 1000 + 1, START * 1000 + 9_999, WINDOW_S)
    operator.process_element(touch, FakeContext(timers, key=START))
    assert state.value() is None and not timers.processing and not timers.event  # no window: nothing

    operator.process_element(_stat(4), FakeContext(timers, key=START))
    registered = (set(timers.processing), set(timers.event))
    timers.processing.clear()
    timers.event.clear()  # lost with the bundle the checkpoint finished
    operator.process_element(touch, FakeContext(timers, key=START))
    assert (timers.processing, timers.event) == registered
    assert state.value().stats.total == 4 and state.value().stats.by_dataset == {"syslog": 4}


def test_touches_cover_every_window_of_the_span_and_at_most_the_newest_thousand() -> None:
    from common.schema.stats import MAX_TOUCHED_WINDOWS, TOUCH, touch_stats

    touches = touch_stats(START * 1000 - 25_000, START * 1000 + 3_000, WINDOW_S)
    assert [t.ts_ms // 1000 for t in touches] == [START - 30, START - 20, START - 10, START]
    assert {(t.outcome, t.events) for t in touches} == {(TOUCH, 0)}
    many = touch_stats(0, START * 1000, WINDOW_S)
    assert len(many) == MAX_TOUCHED_WINDOWS and many[-1].ts_ms == START * 1000
