"""Tuning knobs of the rule engine, read from the environment (documented in docs/rules.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _number(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class RuleEngineOptions:
    # Resident-memory growth of the engine host (MB) after which it is replaced by a fresh one.
    host_memory_budget_mb: float = 24.0
    # Longest one engine call may take before the host is considered stuck and replaced.
    eval_timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuleEngineOptions:
        env = os.environ if environ is None else environ
        return cls(
            host_memory_budget_mb=_number(env, "LOGFLOW_RULES_HOST_MEMORY_MB", cls.host_memory_budget_mb, 1),
            eval_timeout_seconds=_number(env, "LOGFLOW_RULES_EVAL_TIMEOUT_S", cls.eval_timeout_seconds, 0.1),
        )
