"""The current time as ISO-8601 UTC text, the one spelling every timestamp logflow writes uses."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso(timespec: str = "milliseconds") -> str:
    """``2026-12-04T20:48:00.123Z``; ``timespec`` as ``datetime.isoformat`` takes it."""
    return datetime.now(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
