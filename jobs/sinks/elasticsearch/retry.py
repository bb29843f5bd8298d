"""How one bulk response item is judged: indexed, rejected for good, or worth retrying."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Indexed:
    status: int


@dataclass(frozen=True)
class Rejected:
    status: int
    error_type: str
    reason: str


Outcome = Indexed | Rejected


class TransientBulkError(Exception):
    """The whole request failed in a way that is worth retrying (HTTP 429/5xx, connection)."""


def classify_item(item: dict[str, Any]) -> Outcome | None:
    """The outcome of one bulk response item, or None when it should be retried."""
    result = item.get("index") or item.get("create") or item.get("update") or {}
    status = int(result.get("status", 500))
    if 200 <= status < 300:
        return Indexed(status)
    if status in RETRYABLE_STATUS:
        return None
    error = result.get("error") or {}
    if isinstance(error, dict):
        error_type = str(error.get("type", "unknown"))
        reason = str(error.get("reason", ""))
        caused = error.get("caused_by")
        if isinstance(caused, dict) and caused.get("reason"):
            reason = f"{reason}: {caused.get('reason')}"
    else:
        error_type, reason = "unknown", str(error)
    return Rejected(status, error_type, reason)
