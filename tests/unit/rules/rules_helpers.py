from __future__ import annotations

from typing import Any


def rule(when: dict[str, Any], *then: dict[str, Any], rule_id: str = "r", **extra: Any) -> dict[str, Any]:
    """A rule with a default ``tag`` action, for tests that only care whether it matches."""
    return {"id": rule_id, "when": when, "then": list(then) or [{"action": "tag", "value": "hit"}], **extra}
