"""Per-fingerprint group bookkeeping, free of any framework: the job's keyed operator wraps it.

``observe(state, record, event_time, regression_seconds)`` is the whole per-record step: it returns
the group's new state and, when the record should be announced, the reason — ``new error group``
on a fingerprint's first sight, ``regression`` when a group comes back after at least
``regression_seconds`` of silence (event time). ``alert_record`` turns that into the ECS alert
record the job already emits for rule alerts (``common.rules.alerts.build_alert``).
"""

from __future__ import annotations

from typing import Any, Final

from common.rules.alerts import build_alert, event_time
from common.schema.ecs import get_field
from common.schema.error_groups import MAX_SAMPLE_CHARS, ErrorGroup, iso

REASON_NEW: Final = "new error group"
REASON_REGRESSION: Final = "regression"
ALERT_RULE_ID: Final = "logflow.error-groups"  # alert.rule.id of these alerts: no operator rule made them
SEVERITY: Final = {REASON_NEW: "high", REASON_REGRESSION: "medium"}


def _text(record: dict[str, Any], path: str) -> str:
    value = get_field(record, path)
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value))[:MAX_SAMPLE_CHARS]


def fingerprint_of(record: dict[str, Any]) -> str | None:
    """The record's ``error.fingerprint`` as the group key (a rule may have set any scalar)."""
    value = get_field(record, "error.fingerprint")
    if value is None or isinstance(value, dict | list) or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def first_group(fingerprint: str, record: dict[str, Any], at: float) -> ErrorGroup:
    return ErrorGroup(
        fingerprint=fingerprint,
        count=1,
        first_seen=at,
        last_seen=at,
        message=_text(record, "message"),
        type=_text(record, "error.type"),
        dataset=_text(record, "event.dataset"),
        host=_text(record, "host.name"),
        service=_text(record, "service.name"),
        template=_text(record, "error.grouping.template"),
    )


def observe(
    state: ErrorGroup | None, record: dict[str, Any], at: float, regression_seconds: float
) -> tuple[ErrorGroup, str | None]:
    """Count one record into its group: the new state, and why to alert (None: no alert).

    ``at`` is the record's event time (``record_time``). Out-of-order records widen the group's
    span without moving it backwards; only a record later than the last one by at least
    ``regression_seconds`` is a regression.
    """
    if state is None:
        fingerprint = fingerprint_of(record)
        if fingerprint is None:
            raise ValueError("the record has no error.fingerprint")
        return first_group(fingerprint, record, at), REASON_NEW
    reason = REASON_REGRESSION if at - state.last_seen >= regression_seconds else None
    state.count += 1
    if at > state.last_seen:
        state.last_seen = at
    if at < state.first_seen:
        state.first_seen = at
    return state, reason


def record_time(record: dict[str, Any], fallback: float) -> float:
    """A record's event time in epoch seconds (its ``@timestamp``), as the rules' windows read it."""
    return event_time(record, fallback)


def alert_record(group: ErrorGroup, reason: str, record: dict[str, Any]) -> dict[str, Any]:
    """The alert for a group's first sight or regression, shaped like the rules' alert records.

    ``event.kind: alert``, ``event.reason`` the reason, ``rule.id`` ``logflow.error-groups``,
    ``alert.group`` the fingerprint and ``error.fingerprint`` too, so the alert index can be
    joined to the group's records.
    """
    summary = group.type or group.template or group.message.split("\n", 1)[0]
    action = {"severity": SEVERITY[reason], "message": f"{reason}: {summary[:200]}"}
    alert = build_alert(
        rule_id=ALERT_RULE_ID,
        action=action,
        record=record,
        count=group.count,
        group={"error.fingerprint": group.fingerprint},
    )
    alert["event"]["reason"] = reason
    alert["error"] = {"fingerprint": group.fingerprint}
    if group.type:
        alert["error"]["type"] = group.type
    alert["alert"]["first_seen"] = iso(group.first_seen)
    alert["alert"]["last_seen"] = iso(group.last_seen)
    return alert
