"""Stand-ins for Flink's timer service and a keyed function's context, for the operators' glue."""

from __future__ import annotations

from typing import Any


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
