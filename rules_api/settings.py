"""Rules API configuration, read from the environment.

Connection settings (Kafka, Redis, topic names) come from :mod:`common.settings`; this module only
adds what is specific to the API process. Every variable is documented in docs/rules-api.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from common.schema.stats import DEFAULT_PREFIX as DEFAULT_STATS_PREFIX
from common.settings import (
    ElasticsearchSettings,
    KafkaSettings,
    RedisSettings,
    TopicSettings,
    env_int,
    env_number,
)


class SettingsError(ValueError):
    """A configuration problem the server must refuse to start with (one line, says what to fix)."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    try:
        return env_int(env, name, default, minimum)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = env_number(env, name, default, float("-inf"))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _elasticsearch(env: Mapping[str, str]) -> ElasticsearchSettings:
    try:
        return ElasticsearchSettings.from_env(env)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


@dataclass(frozen=True)
class ApiSettings:
    # Raw token entries ("name:role:sha256hex"); parsed and checked by rules_api.security.
    token_entries: tuple[str, ...] = field(default=(), repr=False)
    max_body_bytes: int = 256 * 1024
    max_rules: int = 1000
    max_test_lines: int = 1000
    redis_prefix: str = "logflow:api:"
    publish_timeout_s: float = 5.0
    reconcile_interval_s: float = 5.0
    tls_cert: str = ""
    tls_key: str = ""
    # What the dashboards read: the job's stats keys and indices, named by the job's own variables
    # so that one environment configures both.
    stats_prefix: str = DEFAULT_STATS_PREFIX
    window_seconds: int = 60
    index_prefix: str = "logs"
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    topics: TopicSettings = field(default_factory=TopicSettings)
    elasticsearch: ElasticsearchSettings = field(default_factory=ElasticsearchSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if environ is None else environ
        entries = [e.strip() for e in env.get("LOGFLOW_API_TOKENS", "").split(",") if e.strip()]
        tokens_file = env.get("LOGFLOW_API_TOKENS_FILE", "").strip()
        if tokens_file:
            try:
                text = Path(tokens_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingsError(f"LOGFLOW_API_TOKENS_FILE {tokens_file}: {exc.strerror}") from None
            entries += [
                line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
            ]
        tls_cert = env.get("LOGFLOW_API_TLS_CERT", "").strip()
        tls_key = env.get("LOGFLOW_API_TLS_KEY", "").strip()
        if bool(tls_cert) != bool(tls_key):
            raise SettingsError("set both LOGFLOW_API_TLS_CERT and LOGFLOW_API_TLS_KEY, or neither")
        return cls(
            token_entries=tuple(entries),
            max_body_bytes=_int(env, "LOGFLOW_API_MAX_BODY_BYTES", cls.max_body_bytes),
            max_rules=_int(env, "LOGFLOW_API_MAX_RULES", cls.max_rules),
            max_test_lines=_int(env, "LOGFLOW_API_MAX_TEST_LINES", cls.max_test_lines),
            redis_prefix=env.get("LOGFLOW_API_REDIS_PREFIX", "").strip() or cls.redis_prefix,
            publish_timeout_s=_float(env, "LOGFLOW_API_PUBLISH_TIMEOUT_S", cls.publish_timeout_s),
            reconcile_interval_s=_float(env, "LOGFLOW_API_RECONCILE_INTERVAL_S", cls.reconcile_interval_s),
            tls_cert=tls_cert,
            tls_key=tls_key,
            stats_prefix=env.get("LOGFLOW_STATS_PREFIX", "").strip() or cls.stats_prefix,
            window_seconds=_int(env, "LOGFLOW_WINDOW_SECONDS", cls.window_seconds),
            index_prefix=env.get("LOGFLOW_INDEX_PREFIX", "").strip() or cls.index_prefix,
            kafka=KafkaSettings.from_env(env),
            redis=RedisSettings.from_env(env),
            topics=TopicSettings.from_env(env),
            elasticsearch=_elasticsearch(env),
        )
