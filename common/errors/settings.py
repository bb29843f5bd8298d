"""Error-group settings, from the environment (documented in README's configuration table)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from common.schema.error_groups import DEFAULT_TTL_SECONDS
from common.schema.stats import DEFAULT_PREFIX
from common.settings import env_int

DEFAULT_REGRESSION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ErrorGroupSettings:
    # A group silent for this long (event time) that comes back is announced again, as a regression.
    regression_seconds: int = DEFAULT_REGRESSION_SECONDS
    # The stats' prefix, window size and TTL: the error keys live beside the window statistics.
    stats_prefix: str = DEFAULT_PREFIX
    window_seconds: int = 60
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    index_prefix: str = "logs"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ErrorGroupSettings:
        env = os.environ if environ is None else environ
        return cls(
            regression_seconds=env_int(env, "LOGFLOW_ERRORS_REGRESSION_SECONDS", cls.regression_seconds, 1),
            stats_prefix=env.get("LOGFLOW_STATS_PREFIX", "") or cls.stats_prefix,
            window_seconds=env_int(env, "LOGFLOW_WINDOW_SECONDS", cls.window_seconds, 1),
            ttl_seconds=env_int(env, "LOGFLOW_STATS_TTL_SECONDS", cls.ttl_seconds, 60),
            index_prefix=env.get("LOGFLOW_INDEX_PREFIX", "") or cls.index_prefix,
        )
