"""Stand-ins for Flink's timer service, a keyed function's context and a metric group, for the
operators' glue and the job's metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobs.metrics import MetricGroup


class FakeTimers:
    def __init__(self, now: int = 0, watermark: int = 0) -> None:
        self.now = now
        self.watermark = watermark
        self.processing: set[int] = set()  # Flink keeps one timer per key and timestamp
        self.event: set[int] = set()

    def current_processing_time(self) -> int:
        return self.now

    def current_watermark(self) -> int:
        return self.watermark

    def register_processing_time_timer(self, ts: int) -> None:
        self.processing.add(ts)

    def register_event_time_timer(self, ts: int) -> None:
        self.event.add(ts)


class FakeContext:
    def __init__(self, timers: FakeTimers, domain: Any = None, key: Any = "logs:0") -> None:
        self._timers = timers
        self._domain = domain
        self._key = key

    def timer_service(self) -> FakeTimers:
        return self._timers

    def get_current_key(self) -> Any:
        return self._key

    def time_domain(self) -> Any:
        return self._domain


class RecordingCounter:
    def __init__(self) -> None:
        self.count = 0

    def inc(self, n: int = 1) -> None:
        self.count += n


class RecordingGroup:
    """Metric groups as Flink nests them; every counter and gauge kept by its dotted path."""

    def __init__(self, registry: dict[str, Any] | None = None, path: str = "") -> None:
        self.registry: dict[str, Any] = {} if registry is None else registry
        self.path = path

    def add_group(self, name: str, extra: str | None = None) -> MetricGroup:
        return RecordingGroup(self.registry, f"{self.path}{name}.{'' if extra is None else extra + '.'}")

    def counter(self, name: str) -> RecordingCounter:
        counter = RecordingCounter()
        self.registry[self.path + name] = counter
        return counter

    def gauge(self, name: str, obj: Callable[[], int]) -> None:
        self.registry[self.path + name] = obj

    def counts(self) -> dict[str, int]:
        return {path: c.count for path, c in self.registry.items() if isinstance(c, RecordingCounter)}
