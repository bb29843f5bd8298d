"""Connection settings for Kafka, Elasticsearch, Redis and Flink, read from the environment.

Every component (the job, the rules API, the CLI, the tests) reads its endpoints and credentials
here, so that one set of ``LOGFLOW_*`` variables configures the whole system. Defaults point at the
local stack on 127.0.0.1; nothing secret has a default. This module builds plain dicts for the client
libraries and imports none of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(environ: Mapping[str, str], name: str, default: str = "") -> str:
    value = environ.get(name, "")
    return value if value != "" else default


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def env_int(
    environ: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    """An integer setting; a malformed or out-of-range value is a ``ValueError`` naming the variable."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def env_number(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    """A numeric setting; a malformed or too-small value is a ``ValueError`` naming the variable."""
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


def logflow_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where the local stack keeps downloads, data, logs, pid files and generated tokens."""
    env = os.environ if environ is None else environ
    return Path(_env(env, "LOGFLOW_HOME", str(REPO_ROOT / ".logflow"))).resolve()


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_ca_location: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KafkaSettings:
        env = os.environ if environ is None else environ
        return cls(
            bootstrap_servers=_env(env, "LOGFLOW_KAFKA_BOOTSTRAP", cls.bootstrap_servers),
            security_protocol=_env(env, "LOGFLOW_KAFKA_SECURITY_PROTOCOL", cls.security_protocol).upper(),
            sasl_mechanism=_env(env, "LOGFLOW_KAFKA_SASL_MECHANISM").upper(),
            sasl_username=_env(env, "LOGFLOW_KAFKA_SASL_USERNAME"),
            sasl_password=_env(env, "LOGFLOW_KAFKA_SASL_PASSWORD"),
            ssl_ca_location=_env(env, "LOGFLOW_KAFKA_SSL_CA"),
        )

    def client_config(self) -> dict[str, str]:
        """librdkafka properties (confluent-kafka's Producer/Consumer/AdminClient)."""
        conf = {"bootstrap.servers": self.bootstrap_servers, "security.protocol": self.security_protocol}
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
            conf["sasl.password"] = self.sasl_password
        if self.ssl_ca_location:
            conf["ssl.ca.location"] = self.ssl_ca_location
        return conf

    def java_properties(self) -> dict[str, str]:
        """The same settings as Kafka Java-client properties, for Flink's Kafka connector."""
        props = {"bootstrap.servers": self.bootstrap_servers, "security.protocol": self.security_protocol}
        if self.sasl_mechanism:
            props["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            module = (
                "org.apache.kafka.common.security.plain.PlainLoginModule"
                if self.sasl_mechanism in {"", "PLAIN"}
                else "org.apache.kafka.common.security.scram.ScramLoginModule"
            )
            user = self.sasl_username.replace('"', '\\"')
            password = self.sasl_password.replace('"', '\\"')
            props["sasl.jaas.config"] = f'{module} required username="{user}" password="{password}";'
        if self.ssl_ca_location:
            props["ssl.truststore.type"] = "PEM"
            props["ssl.truststore.location"] = self.ssl_ca_location
        return props


@dataclass(frozen=True)
class ElasticsearchSettings:
    url: str = "http://127.0.0.1:9200"
    username: str = ""
    password: str = field(default="", repr=False)
    api_key: str = field(default="", repr=False)
    ca_certs: str = ""
    verify_certs: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ElasticsearchSettings:
        env = os.environ if environ is None else environ
        return cls(
            url=_env(env, "LOGFLOW_ES_URL", cls.url),
            username=_env(env, "LOGFLOW_ES_USERNAME"),
            password=_env(env, "LOGFLOW_ES_PASSWORD"),
            api_key=_env(env, "LOGFLOW_ES_API_KEY"),
            ca_certs=_env(env, "LOGFLOW_ES_CA_CERTS"),
            verify_certs=_flag(env, "LOGFLOW_ES_VERIFY_CERTS", True),
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``elasticsearch.Elasticsearch`` / ``AsyncElasticsearch``."""
        kwargs: dict[str, Any] = {"hosts": [u.strip() for u in self.url.split(",") if u.strip()]}
        if self.api_key:
            kwargs["api_key"] = self.api_key
        elif self.username:
            kwargs["basic_auth"] = (self.username, self.password)
        if self.ca_certs:
            kwargs["ca_certs"] = self.ca_certs
        if not self.verify_certs:
            kwargs["verify_certs"] = False
            kwargs["ssl_show_warn"] = False
        return kwargs


@dataclass(frozen=True)
class RedisSettings:
    url: str = "redis://127.0.0.1:6379/0"
    username: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RedisSettings:
        env = os.environ if environ is None else environ
        return cls(
            url=_env(env, "LOGFLOW_REDIS_URL", cls.url),
            username=_env(env, "LOGFLOW_REDIS_USERNAME"),
            password=_env(env, "LOGFLOW_REDIS_PASSWORD"),
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``redis.Redis.from_url(url, **kwargs)``; URL credentials also work."""
        kwargs: dict[str, Any] = {}
        if self.username:
            kwargs["username"] = self.username
        if self.password:
            kwargs["password"] = self.password
        return kwargs


@dataclass(frozen=True)
class TopicSettings:
    logs: tuple[str, ...] = ("logs",)
    logs_pattern: str = ""
    rules: str = "logflow.rules"
    alerts: str = "logflow.alerts"
    deadletter: str = "logflow.deadletter"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TopicSettings:
        env = os.environ if environ is None else environ
        topics = tuple(t.strip() for t in _env(env, "LOGFLOW_LOG_TOPICS", "logs").split(",") if t.strip())
        return cls(
            logs=topics,
            logs_pattern=_env(env, "LOGFLOW_LOG_TOPIC_PATTERN"),
            rules=_env(env, "LOGFLOW_RULES_TOPIC", cls.rules),
            alerts=_env(env, "LOGFLOW_ALERTS_TOPIC", cls.alerts),
            deadletter=_env(env, "LOGFLOW_DEADLETTER_TOPIC", cls.deadletter),
        )


def flink_rest_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return _env(env, "LOGFLOW_FLINK_REST", "http://127.0.0.1:8081").rstrip("/")


def api_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return _env(env, "LOGFLOW_API_URL", "http://127.0.0.1:8000").rstrip("/")
