"""Per-fingerprint group bookkeeping, free of any framework: the job's keyed operator wraps it.

``sighting_of(record, ...)`` is what the parsing operator sends on for an error record: its
fingerprint, times and the sample fields, nothing more. ``observe(group, sighting,
regression_seconds)`` counts it into its group and says when to announce it — ``new error group``
on a fingerprint's first sight, ``regression`` when a group comes back after at least
``regression_seconds`` of silence (event time). ``GroupState`` is all one fingerprint's keyed state
in the job (the group and its counts in the open statistics windows); ``count_sighting``,
``write_commands`` and ``close_windows`` are the operator's three steps on it, so the operator
itself only moves state in and out of Flink. ``alert_record`` builds the announcement, shaped like
the rules' alerts (``common.rules.alerts.build_alert``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from common.rules.alerts import build_alert, event_time
from common.schema.alert import error_group_alert_id
from common.schema.ecs import get_field
from common.schema.error_groups import (
    MAX_SAMPLE_CHARS,
    Command,
    ErrorGroup,
    ErrorGroupKeys,
    ErrorSighting,
    group_commands,
    iso,
    window_count_commands,
)
from common.schema.stats import window_start

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


def record_time(record: dict[str, Any], fallback: float) -> float:
    """A record's event time in epoch seconds (its ``@timestamp``), as the rules' windows read it.

    A record whose line had no time got the parse time as ``@timestamp`` (it equals
    ``event.ingested``); that would differ when a failure makes the job read it again, so such a
    record's time is ``fallback`` (the job passes the Kafka timestamp, fixed per record).
    """
    stamp = record.get("@timestamp")
    if stamp is None or stamp == get_field(record, "event.ingested"):
        return fallback
    return event_time(record, fallback)


def sighting_of(record: dict[str, Any], doc_id: str, ts_ms: int, late: bool) -> ErrorSighting | None:
    """What an error record tells its group; None for a record without a fingerprint."""
    fingerprint = fingerprint_of(record)
    if fingerprint is None:
        return None
    return ErrorSighting(
        fingerprint=fingerprint,
        at=record_time(record, ts_ms / 1000.0),
        ts_ms=ts_ms,
        late=late,
        doc_id=doc_id,
        message=_text(record, "message"),
        type=_text(record, "error.type"),
        dataset=_text(record, "event.dataset"),
        host=_text(record, "host.name"),
        service=_text(record, "service.name"),
        template=_text(record, "error.grouping.template"),
    )


def first_group(sighting: ErrorSighting) -> ErrorGroup:
    group = ErrorGroup(
        fingerprint=sighting.fingerprint, count=1, first_seen=sighting.at, last_seen=sighting.at
    )
    take_sample(group, sighting)
    return group


def take_sample(group: ErrorGroup, sighting: ErrorSighting) -> None:
    group.message = sighting.message
    group.type = sighting.type
    group.dataset = sighting.dataset
    group.host = sighting.host
    group.service = sighting.service
    group.template = sighting.template


def observe(
    group: ErrorGroup | None, sighting: ErrorSighting, regression_seconds: float
) -> tuple[ErrorGroup, str | None]:
    """Count one sighting into its group: the new group, and why to alert (None: no alert).

    Out-of-order records widen the group's span without moving it backwards; only a record later
    than the last one by at least ``regression_seconds`` is a regression. The sample is the
    earliest record's (event time), not the first one read: records of several partitions
    interleave differently when read again after a failure, their times do not.
    """
    if group is None:
        return first_group(sighting), REASON_NEW
    at = sighting.at
    reason = REASON_REGRESSION if at - group.last_seen >= regression_seconds else None
    group.count += 1
    if at > group.last_seen:
        group.last_seen = at
    if at < group.first_seen:
        group.first_seen = at
        take_sample(group, sighting)
    return group, reason


def alert_record(group: ErrorGroup, reason: str, sighting: ErrorSighting) -> dict[str, Any]:
    """The alert for a group's first sight or regression, shaped like the rules' alert records.

    ``event.kind: alert``, ``event.reason`` the reason, ``rule.id`` ``logflow.error-groups``,
    ``alert.group`` the fingerprint and ``error.fingerprint`` too, so the alert index can be
    joined to the group's records; the sighting's host and service, when it had them.
    """
    source: dict[str, Any] = {"@timestamp": iso(sighting.at)}
    if sighting.dataset:
        source["event"] = {"dataset": sighting.dataset}
    alert = build_alert(
        rule_id=ALERT_RULE_ID,
        action={"severity": SEVERITY[reason], "message": ""},
        record=source,
        count=group.count,
        group={"error.fingerprint": group.fingerprint},
    )
    # Set here, not rendered: an error's text is no template, its braces are its own.
    summary = group.type or group.template or group.message.split("\n", 1)[0]
    alert["message"] = f"{reason}: {summary[:200]}"
    alert["event"]["reason"] = reason
    alert["error"] = {"fingerprint": group.fingerprint}
    if group.type:
        alert["error"]["type"] = group.type
    if sighting.host:
        alert["host"] = {"name": sighting.host}
    if sighting.service:
        alert["service"] = {"name": sighting.service}
    alert["alert"]["first_seen"] = iso(group.first_seen)
    alert["alert"]["last_seen"] = iso(group.last_seen)
    return alert


# ---- one fingerprint's keyed state in the job ------------------------------------------------


@dataclass
class GroupState:
    """Everything the job keeps for one fingerprint, checkpointed as one value.

    ``windows`` holds this group's counts in the statistics windows still open (the watermark has
    not passed their end); ``closed_through`` is the start of the last window closed, so a
    sighting for a closed window can never start it again from zero and overwrite its count.
    ``dirty`` says the counts changed since they were last written to Redis. ``sample_id`` is the
    sample's record (its ``event.id``): of records with the same time, the least id's is the sample.
    """

    group: ErrorGroup | None = None
    sample_id: str = ""
    windows: dict[int, int] = field(default_factory=dict)
    closed_through: int | None = None
    dirty: bool = False

    def to_json(self) -> str:
        # JSON, not a pickled class: checkpoints and savepoints survive this module being moved.
        return json.dumps(
            {
                "group": asdict(self.group) if self.group is not None else None,
                "sample_id": self.sample_id,
                "windows": {str(start): count for start, count in self.windows.items()},
                "closed_through": self.closed_through,
                "dirty": self.dirty,
            }
        )

    @classmethod
    def from_json(cls, text: str | None) -> GroupState:
        if not text:
            return cls()
        data = json.loads(text)
        group = data.get("group")
        return cls(
            group=ErrorGroup(**group) if group else None,
            sample_id=str(data.get("sample_id") or ""),
            windows={int(start): int(count) for start, count in (data.get("windows") or {}).items()},
            closed_through=data.get("closed_through"),
            dirty=bool(data.get("dirty")),
        )


@dataclass(frozen=True)
class Announcement:
    """An alert to index and publish, under an id a replay reproduces."""

    alert_id: str
    alert: dict[str, Any]
    ts_ms: int  # the Kafka timestamp of the sighting that raised it (dates its index)


def count_sighting(
    state: GroupState, sighting: ErrorSighting, regression_seconds: float, window_seconds: int
) -> Announcement | None:
    """Count a sighting into the group and its window; the alert it raises, if any.

    A late sighting (its window had closed when the job read it) counts in the group only, as a
    late event counts only in its window's ``late`` total. The regression alert's id is the
    group's last sighting before the silence: reading the same records again, in whatever order
    their partitions interleave, breaks the same silence, so it gets the same id.
    """
    before = state.group
    quiet_since, first_seen = (before.last_seen, before.first_seen) if before is not None else (None, None)
    state.group, reason = observe(state.group, sighting, regression_seconds)
    if first_seen is None or sighting.at < first_seen:
        state.sample_id = sighting.doc_id
    elif sighting.at == first_seen and sighting.doc_id < state.sample_id:
        take_sample(state.group, sighting)
        state.sample_id = sighting.doc_id
    if not sighting.late:
        start = window_start(sighting.ts_ms, window_seconds)
        if state.closed_through is None or start > state.closed_through:
            state.windows[start] = state.windows.get(start, 0) + 1
    state.dirty = True
    if reason is None:
        return None
    alert_id = error_group_alert_id(sighting.fingerprint, None if reason == REASON_NEW else quiet_since)
    return Announcement(alert_id, alert_record(state.group, reason, sighting), sighting.ts_ms)


def write_commands(state: GroupState, keys: ErrorGroupKeys, ttl_seconds: int) -> list[Command]:
    """The Redis commands that set the group and its open windows to the state's values."""
    state.dirty = False
    if state.group is None:
        return []
    fingerprint = state.group.fingerprint
    commands = group_commands(keys, state.group, ttl_seconds)
    for start, count in sorted(state.windows.items()):
        commands += window_count_commands(keys, start, fingerprint, count, ttl_seconds)
    return commands


def close_windows(
    state: GroupState, watermark_ms: int, window_seconds: int, keys: ErrorGroupKeys, ttl_seconds: int
) -> list[Command]:
    """Drop the windows the watermark has passed; the commands that write them first, if unwritten."""
    closing = [start for start in state.windows if (start + window_seconds) * 1000 - 1 <= watermark_ms]
    if not closing:
        return []
    commands = write_commands(state, keys, ttl_seconds) if state.dirty else []
    for start in closing:
        del state.windows[start]
    latest = max(closing)
    if state.closed_through is None or latest > state.closed_through:
        state.closed_through = latest
    return commands
