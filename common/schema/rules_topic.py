"""The rules topic's wire format: written by the rules API, read by the job.

One Kafka record per rule change, keyed by the rule id (UTF-8). The value is the JSON of the rule's
current version, ``{"id", "version", "updated_at", "updated_by", "rule"}``; a deleted rule is a
tombstone (no value), so the compacted topic keeps exactly the current rules. The job keeps each
rule's value as it read it in checkpointed broadcast state and decodes it again after a restore, so
this format is also the format of that state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RuleVersion:
    """One version of a rule as the topic carries it (and the rules API stores it)."""

    id: str
    version: int
    updated_at: str
    updated_by: str
    rule: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "rule": self.rule,
        }

    @classmethod
    def from_wire(cls, obj: dict[str, Any]) -> RuleVersion:
        return cls(obj["id"], int(obj["version"]), obj["updated_at"], obj["updated_by"], obj["rule"])


def dumps(obj: Any) -> str:
    """Compact JSON, non-ASCII kept as it is: the text both the topic and the API's store hold."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def encode(current: RuleVersion | None) -> bytes | None:
    """The record value for a rule's current version; None (a tombstone) once it is deleted."""
    return None if current is None else dumps(current.to_wire()).encode("utf-8")


@dataclass(frozen=True)
class RuleChange:
    """What a reader makes of one record: a new version of a rule, or its deletion (``rule is None``)."""

    rule_id: str
    version: int
    rule: dict[str, Any] | None

    @classmethod
    def deleted(cls, rule_id: str) -> RuleChange:
        return cls(rule_id=rule_id, version=-1, rule=None)


def decode(rule_id: str, payload: str | bytes | None) -> RuleChange:
    """Decode one record; raises ``ValueError`` when the value is not this format.

    Only ``version`` and ``rule`` are required: they are all a reader acts on.
    """
    if payload is None:
        return RuleChange.deleted(rule_id)
    try:
        envelope = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise ValueError(f"rule {rule_id!r}: payload is not JSON: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("rule"), dict):
        raise ValueError(f"rule {rule_id!r}: payload has no 'rule' object")
    version = envelope.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"rule {rule_id!r}: payload has no integer 'version'")
    return RuleChange(rule_id=rule_id, version=version, rule=envelope["rule"])
