from __future__ import annotations

from typing import Any

import pytest

import common.rules.engine

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
