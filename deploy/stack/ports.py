"""The ports the local stack listens on, derived from the client settings in ``common.settings``.

The stack binds where the clients will connect, so one variable (e.g. ``LOGFLOW_REDIS_URL``) moves
both: a second stack for experiments, or a test that points one service at a busy port, needs no
separate port variables. Only the Kafka controller port has no client-side counterpart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from common.settings import ElasticsearchSettings, KafkaSettings, RedisSettings, api_url, flink_rest_url

from .errors import StackError


def _port_of_url(url: str, default: int, variable: str) -> int:
    first = url.split(",")[0].strip()
    try:
        port = urlsplit(first).port
    except ValueError as exc:
        raise StackError(f"{variable}={url!r} has an invalid port; fix or unset {variable}") from exc
    return port if port is not None else default


def _port_of_bootstrap(bootstrap: str) -> int:
    first = bootstrap.split(",")[0].strip()
    host_port = first.rsplit("@", 1)[-1]
    _, _, port = host_port.rpartition(":")
    if not port.isdigit():
        raise StackError(f"LOGFLOW_KAFKA_BOOTSTRAP={bootstrap!r} needs host:port; fix or unset it")
    return int(port)


@dataclass(frozen=True)
class StackPorts:
    kafka: int = 9092
    kafka_controller: int = 9093
    elasticsearch: int = 9200
    redis: int = 6379
    flink_rest: int = 8081
    flink_rpc: int = 6123
    api: int = 8000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackPorts:
        env = os.environ if environ is None else environ
        controller = env.get("LOGFLOW_KAFKA_CONTROLLER_PORT", "") or "9093"
        rpc = env.get("LOGFLOW_FLINK_RPC_PORT", "") or "6123"
        for name, value in (("LOGFLOW_KAFKA_CONTROLLER_PORT", controller), ("LOGFLOW_FLINK_RPC_PORT", rpc)):
            if not value.isdigit():
                raise StackError(f"{name}={value!r} is not a port number; fix or unset it")
        return cls(
            kafka=_port_of_bootstrap(KafkaSettings.from_env(env).bootstrap_servers),
            kafka_controller=int(controller),
            elasticsearch=_port_of_url(ElasticsearchSettings.from_env(env).url, 9200, "LOGFLOW_ES_URL"),
            redis=_port_of_url(RedisSettings.from_env(env).url, 6379, "LOGFLOW_REDIS_URL"),
            flink_rest=_port_of_url(flink_rest_url(env), 8081, "LOGFLOW_FLINK_REST"),
            flink_rpc=int(rpc),
            api=_port_of_url(api_url(env), 8000, "LOGFLOW_API_URL"),
        )
