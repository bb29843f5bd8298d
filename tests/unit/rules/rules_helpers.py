from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import assume

import common.rules.engine
from common.rules import RuleEngine, RuleValidationError

# Compiled (deploy/native.py), the engine's modules call each other directly: patching one of
# their functions or classes changes nothing. Tests that compare the engine with a patched engine
# are skipped here and run by tests/unit/common/test_native_build.py over the pure-Python sources.
ENGINE_COMPILED = not str(common.rules.engine.__file__).endswith(".py")
patches_the_engine = pytest.mark.skipif(
    ENGINE_COMPILED,
    reason="patches the compiled engine, which ignores patches: run as pure Python by test_native_build.py",
)


def rule(when: dict[str, Any], *then: dict[str, Any], rule_id: str = "r", **extra: Any) -> dict[str, Any]:
    """A rule with a default ``tag`` action, for tests that only care whether it matches."""
    return {"id": rule_id, "when": when, "then": list(then) or [{"action": "tag", "value": "hit"}], **extra}


def activate(engine: RuleEngine, rules: Sequence[dict[str, Any]]) -> None:
    """``replace_all`` for a generated rule set; one whose condition durable-rules itself refuses
    (validation does not predict all of its limits) is a RuleValidationError by design, tested
    elsewhere, and not an example of what these properties are about."""
    try:
        engine.replace_all(rules)
    except RuleValidationError as refused:
        assume("durable-rules cannot compile" not in str(refused.errors))
        raise
