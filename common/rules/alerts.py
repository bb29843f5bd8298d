"""Alert records: what an ``alert`` action emits, and its message template."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from common.clock import now_iso
from common.schema.ecs import EcsRecord, get_field

# ``{field.path}`` placeholders only: no format specs or attribute access, so a template written by
# an operator cannot reach anything but the record's own fields.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_@][A-Za-z0-9_@.-]*)\}")
_MAX_RENDERED_VALUE = 1024


def render_template(template: str, record: EcsRecord, extra: dict[str, Any] | None = None) -> str:
    def replace(match: re.Match[str]) -> str:
        path = match.group(1)
        value = extra[path] if extra and path in extra else get_field(record, path)
        if value is None:
            return ""
        text = value if isinstance(value, str) else str(value)
        return text[:_MAX_RENDERED_VALUE]

    return _PLACEHOLDER.sub(replace, template)


def event_time(record: EcsRecord, fallback: float) -> float:
    """The record's ``@timestamp`` as epoch seconds (threshold windows are in event time)."""
    stamp = record.get("@timestamp")
    if isinstance(stamp, str):
        try:
            parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        return float(stamp) / 1000.0 if stamp > 1e11 else float(stamp)
    return fallback


def build_alert(
    *,
    rule_id: str,
    action: dict[str, Any],
    record: EcsRecord,
    count: int = 1,
    window_seconds: float | None = None,
    group: dict[str, Any] | None = None,
) -> EcsRecord:
    """An ECS alert record: ``event.kind: alert``, ``rule.id``, the rendered ``message``, ``alert``."""
    extra = {"alert.count": count, "alert.window": window_seconds, "rule.id": rule_id}
    # A stable shape for the alerts index: plain alerts have no window and an empty group.
    alert: dict[str, Any] = {
        "severity": action["severity"],
        "count": count,
        "window": window_seconds,
        "group": dict(group or {}),
    }
    out: EcsRecord = {
        "@timestamp": record.get("@timestamp") or now_iso("microseconds"),
        "message": render_template(action["message"], record, extra),
        "event": {"kind": "alert", "severity": action["severity"]},
        "rule": {"id": rule_id},
        "alert": alert,
    }
    dataset = get_field(record, "event.dataset")
    if dataset is not None:
        out["event"]["dataset"] = dataset
    original = get_field(record, "event.original")
    if original is not None:
        out["event"]["original"] = original
    return out
