"""Tuning knobs of the rule engine, read from the environment (documented in docs/rules.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from common.settings import env_number


@dataclass(frozen=True)
class RuleEngineOptions:
    # New rulesets a host may register (beyond its initial load) before it is replaced by a fresh
    # one: each costs ~0.1 MB that durable-rules never returns once the ruleset has seen events.
    host_max_registrations: int = 150
    # Safety net: resident-memory growth of the host (MB) past its post-load size that also
    # triggers a replacement, whatever the cause.
    host_memory_budget_mb: float = 48.0
    # Longest one engine call may take before the host is considered stuck and replaced.
    eval_timeout_seconds: float = 30.0
    # Keep a started spare host ready so that recycling never waits for an interpreter to start.
    # Short-lived engines (the dry run) turn it off: they never recycle.
    warm_spare: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuleEngineOptions:
        env = os.environ if environ is None else environ
        return cls(
            host_max_registrations=int(
                env_number(env, "LOGFLOW_RULES_HOST_MAX_REGISTRATIONS", cls.host_max_registrations, 1)
            ),
            host_memory_budget_mb=env_number(
                env, "LOGFLOW_RULES_HOST_MEMORY_MB", cls.host_memory_budget_mb, 1
            ),
            eval_timeout_seconds=env_number(
                env, "LOGFLOW_RULES_EVAL_TIMEOUT_S", cls.eval_timeout_seconds, 0.1
            ),
        )
