"""The alert as it leaves the job: the JSON on the alerts topic and the document in the alerts index.

The rules engine builds an alert record (``common.rules.alerts.build_alert``); ``alert_document``
turns it into its published form: ECS-typed (numeric ``event.severity``), in the alert dataset, with
a deterministic ``event.id`` so a replay overwrites instead of duplicating.
"""

from __future__ import annotations

from typing import Any

ALERT_DATASET = "logflow.alert"


def alerts_indices(index_prefix: str) -> str:
    """The alert indices' pattern (``<prefix>-logflow.alert-<day>``)."""
    return f"{index_prefix}-{ALERT_DATASET}-*"


def records_indices(index_prefix: str) -> str:
    """Every dataset's indices but the alerts': a search for records must not find the alerts that
    copy a record's fields (an error group's alert carries its ``error.fingerprint``)."""
    return f"{index_prefix}-*,-{alerts_indices(index_prefix)}"


# ECS ``event.severity`` is numeric; these are the scores Elastic's own detection rules use.
SEVERITY_SCORES = {"low": 21, "medium": 47, "high": 73, "critical": 99}


def alert_id(document_id: str, seq: int) -> str:
    """The id of the ``seq``-th plain alert a record raised."""
    return f"{document_id}:alert:{seq}"


def threshold_alert_id(document_id: str, rule_id: str) -> str:
    """The id of the threshold alert the record ``document_id`` fired for ``rule_id``."""
    return f"{document_id}:threshold:{rule_id}"


def error_group_alert_id(fingerprint: str, quiet_since: float | None) -> str:
    """The id of an error group's alert: its first sight (``quiet_since`` None), or the regression
    that ended the silence after the group's sighting at ``quiet_since`` (epoch seconds)."""
    if quiet_since is None:
        return f"error-group:{fingerprint}:new"
    return f"error-group:{fingerprint}:regression:{round(quiet_since * 1000)}"


def alert_document(alert: dict[str, Any], alert_id: str) -> dict[str, Any]:
    """The published form of an alert: ECS-typed, in the alert dataset, with a deterministic id."""
    document = dict(alert)
    event = dict(document.get("event") or {})
    event["kind"] = "alert"
    severity = event.pop("severity", None)
    if isinstance(severity, str) and severity.lower() in SEVERITY_SCORES:
        event["severity"] = SEVERITY_SCORES[severity.lower()]
    elif isinstance(severity, int) and not isinstance(severity, bool):
        event["severity"] = severity
    # The alert keeps the source dataset under labels; event.dataset names the alert stream.
    source_dataset = event.get("dataset")
    if source_dataset and source_dataset != ALERT_DATASET:
        document.setdefault("labels", {})["source_dataset"] = str(source_dataset)
    event["dataset"] = ALERT_DATASET
    event["id"] = alert_id
    document["event"] = event
    return document
