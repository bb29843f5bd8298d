"""Metrics a Python function updates in ``on_timer``: counted like those of ``process_element``.

Under PyFlink's process mode, Beam adds a metric update to the operation's container only while
that operation's ``process`` state is the worker's current state. PyFlink runs ``process_element``
inside that state but calls ``on_timer`` outside it, where the current state carries no container and
Beam drops the update without a word (PyFlink 2.2.1, Beam 2.61: ``StatefulFunctionOperation.
process_timer`` has no ``scoped_process_state``). Records the multi-line joiner completes in its flush
timer, and the Redis writes of closing windows, were therefore missing from the counters.

So an operator remembers its ``process`` state while an element is being processed and enters it
again around its timers. Entering it is what Beam itself does for every element; it saves and
restores the previous state. A timer that fires before the subtask's first element (after a
restore) has no state to enter yet: its updates are held by ``JobMetrics`` and reported with the
next update made inside the state, late rather than lost.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from jobs.metrics import JobMetrics


def _current_process_state() -> Any | None:
    """The worker's current state if it counts metrics, else None (outside Beam: None)."""
    try:
        from apache_beam.runners.worker.statesampler import get_current_tracker
    except ImportError:  # pragma: no cover - Beam comes with apache-flink
        return None
    tracker = get_current_tracker()
    if tracker is None:
        return None
    state = tracker.current_state()
    return state if getattr(state, "metrics_container", None) is not None else None


class TimerMetrics:
    """Lets one operator instance's timers count into its ``JobMetrics``."""

    def __init__(self, metrics: JobMetrics, current_state: Any = _current_process_state) -> None:
        self._metrics = metrics
        self._current_state = current_state
        self._process_state: Any | None = None

    def element_seen(self) -> None:
        """Call from ``process_element``: remembers the state its metric updates count in."""
        if self._process_state is None:
            self._process_state = self._current_state()

    def counting(self) -> AbstractContextManager[Any]:
        """Wrap an ``on_timer`` body in this: its metric updates count, now or with the next element."""
        if self._process_state is not None:
            return self._process_state
        return self._metrics.held()
