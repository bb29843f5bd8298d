"""The log pipeline job's settings, from ``LOGFLOW_*`` environment variables.

The job is configured where it is submitted: the client builds the job graph and the functions
carry their settings with them, so TaskManagers need none of these variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from common.errors.settings import DEFAULT_REGRESSION_SECONDS
from common.settings import ElasticsearchSettings, KafkaSettings, RedisSettings, TopicSettings, env_int

START_MODES = ("group-offsets", "earliest", "latest")


@dataclass(frozen=True)
class JobConfig:
    name: str = "logflow-log-pipeline"
    consumer_group: str = "logflow-pipeline"
    start_from: str = "group-offsets"
    parallelism: int = 2
    checkpoint_interval_ms: int = 10_000
    window_seconds: int = 60
    out_of_orderness_seconds: int = 5
    # How long a window may wait for its watermark before wall-clock time closes it; this is what
    # lets the last window of a stream that went quiet reach Redis.
    idle_close_seconds: int = 10
    late_retention_seconds: int = 3600
    stats_ttl_seconds: int = 7 * 24 * 3600
    stats_prefix: str = "logflow:stats"
    # An error group silent this long (event time) that comes back alerts again (docs/errors.md).
    errors_regression_seconds: int = DEFAULT_REGRESSION_SECONDS
    index_prefix: str = "logs"
    es_bulk_docs: int = 1000
    es_request_timeout_s: int = 30
    bundle_size: int = 5000
    # Records reach the Python operators in batches gathered over this much processing time.
    batch_ms: int = 100
    bundle_time_ms: int = 100
    # Extra Flink settings for the job (LOGFLOW_JOB_FLINK_CONF="key=value,key=value"), layered over
    # logflow's own: for experiments such as python.execution-mode=thread, or site tuning.
    flink_settings: tuple[tuple[str, str], ...] = ()
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    elasticsearch: ElasticsearchSettings = field(default_factory=ElasticsearchSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    topics: TopicSettings = field(default_factory=TopicSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JobConfig:
        env = os.environ if environ is None else environ
        start_from = env.get("LOGFLOW_START_FROM", "") or cls.start_from
        if start_from not in START_MODES:
            raise ValueError(
                f"LOGFLOW_START_FROM must be one of {', '.join(START_MODES)}, got {start_from!r}"
            )
        return cls(
            name=env.get("LOGFLOW_JOB_NAME", "") or cls.name,
            consumer_group=env.get("LOGFLOW_CONSUMER_GROUP", "") or cls.consumer_group,
            start_from=start_from,
            parallelism=env_int(env, "LOGFLOW_PARALLELISM", cls.parallelism, 1),
            checkpoint_interval_ms=env_int(
                env, "LOGFLOW_CHECKPOINT_INTERVAL_MS", cls.checkpoint_interval_ms, 100
            ),
            window_seconds=env_int(env, "LOGFLOW_WINDOW_SECONDS", cls.window_seconds, 1),
            out_of_orderness_seconds=env_int(
                env,
                "LOGFLOW_OUT_OF_ORDERNESS_SECONDS",
                cls.out_of_orderness_seconds,
                0,
                MAX_OUT_OF_ORDERNESS_SECONDS,
            ),
            idle_close_seconds=env_int(env, "LOGFLOW_IDLE_CLOSE_SECONDS", cls.idle_close_seconds, 1),
            late_retention_seconds=env_int(
                env, "LOGFLOW_LATE_RETENTION_SECONDS", cls.late_retention_seconds, 1
            ),
            stats_ttl_seconds=env_int(env, "LOGFLOW_STATS_TTL_SECONDS", cls.stats_ttl_seconds, 60),
            stats_prefix=env.get("LOGFLOW_STATS_PREFIX", "") or cls.stats_prefix,
            errors_regression_seconds=env_int(
                env, "LOGFLOW_ERRORS_REGRESSION_SECONDS", cls.errors_regression_seconds, 1
            ),
            index_prefix=env.get("LOGFLOW_INDEX_PREFIX", "") or cls.index_prefix,
            es_bulk_docs=env_int(env, "LOGFLOW_ES_BULK_DOCS", cls.es_bulk_docs, 1),
            es_request_timeout_s=env_int(env, "LOGFLOW_ES_REQUEST_TIMEOUT_S", cls.es_request_timeout_s, 1),
            bundle_size=env_int(env, "LOGFLOW_BUNDLE_SIZE", cls.bundle_size, 1),
            batch_ms=env_int(env, "LOGFLOW_BATCH_MS", cls.batch_ms, 1),
            bundle_time_ms=env_int(env, "LOGFLOW_BUNDLE_TIME_MS", cls.bundle_time_ms, 1),
            flink_settings=parse_flink_settings(env.get("LOGFLOW_JOB_FLINK_CONF", "")),
            kafka=KafkaSettings.from_env(env),
            elasticsearch=ElasticsearchSettings.from_env(env),
            redis=RedisSettings.from_env(env),
            topics=TopicSettings.from_env(env),
        )


# The watermark's SQL interval is SECOND(3): three digits of seconds, the most Flink's planner takes
# (a bare SECOND allows two, so 120 failed at submission with a planner error).
MAX_OUT_OF_ORDERNESS_SECONDS = 999


def parse_flink_settings(text: str) -> tuple[tuple[str, str], ...]:
    """``key=value`` pairs separated by commas or new lines; a malformed pair is an error, not ignored."""
    pairs = []
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"LOGFLOW_JOB_FLINK_CONF: expected key=value, got {item!r}")
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)
