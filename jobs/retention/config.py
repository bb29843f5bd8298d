"""Retention settings from the environment: ``LOGFLOW_RETENTION_DAYS`` and ``LOGFLOW_RETENTION_MODE``.

``LOGFLOW_INDEX_PREFIX`` is read here too (same variable and default as the job's configuration),
so pruning needs nothing but these and the Elasticsearch connection settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from common.settings import ElasticsearchSettings

from .policy import RetentionError, check_prefix

DEFAULT_DAYS = 30
# auto: ILM policy where the cluster has ILM; prune: never install one; ilm: require ILM.
# The scheduled prune runs in every mode (docs/retention.md).
MODES = ("auto", "prune", "ilm")
OFF = "off"


@dataclass(frozen=True)
class RetentionConfig:
    # None: retention is off, nothing is ever deleted.
    days: int | None = DEFAULT_DAYS
    mode: str = "auto"
    index_prefix: str = "logs"
    elasticsearch: ElasticsearchSettings = field(default_factory=ElasticsearchSettings)

    @property
    def enabled(self) -> bool:
        return self.days is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetentionConfig:
        env = os.environ if environ is None else environ
        mode = env.get("LOGFLOW_RETENTION_MODE", "").strip().lower() or cls.mode
        if mode not in MODES:
            raise RetentionError(f"LOGFLOW_RETENTION_MODE must be one of {', '.join(MODES)}, got {mode!r}")
        return cls(
            days=parse_days(env.get("LOGFLOW_RETENTION_DAYS", "")),
            mode=mode,
            index_prefix=check_prefix(env.get("LOGFLOW_INDEX_PREFIX", "") or cls.index_prefix),
            elasticsearch=ElasticsearchSettings.from_env(env),
        )


def parse_days(raw: str) -> int | None:
    """A positive whole number of days, ``off`` (None), or the default when unset."""
    text = raw.strip().lower()
    if not text:
        return DEFAULT_DAYS
    if text == OFF:
        return None
    # 0 is refused rather than read as "off": it could as well mean "keep only today", and a
    # retention setting must not guess which way to delete.
    if not re.fullmatch(r"[0-9]{1,6}", text) or int(text) < 1:
        raise RetentionError(
            f"LOGFLOW_RETENTION_DAYS must be a whole number of days of at least 1, or 'off', got {raw!r}"
        )
    return int(text)
