"""The ports the local stack listens on, derived from the client settings in ``common.settings``.

The stack binds where the clients will connect, so one variable (e.g. ``LOGFLOW_REDIS_URL``) moves
both: a second stack for experiments, or a test that points one service at a busy port, needs no
separate port variables. Ports no client is configured with have variables of their own: the Kafka
controller, Flink's RPC, the Prometheus endpoints and each TaskManager's RPC and data ports.

TaskManager N (from 1) listens on ``base + N - 1`` for RPC and data and on ``metrics + N`` for
Prometheus (the JobManager's endpoint is ``metrics`` itself), so every port is known before start.
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
class TaskManagerPorts:
    rpc: int
    data: int
    metrics: int


# Port variables without a client-side URL, with their defaults.
_OWN_PORT_VARIABLES = {
    "LOGFLOW_KAFKA_CONTROLLER_PORT": 9093,
    "LOGFLOW_FLINK_RPC_PORT": 6123,
    "LOGFLOW_FLINK_METRICS_PORT": 9249,
    "LOGFLOW_FLINK_TM_RPC_PORT": 6130,
    "LOGFLOW_FLINK_TM_DATA_PORT": 6160,
}


@dataclass(frozen=True)
class StackPorts:
    kafka: int = 9092
    kafka_controller: int = 9093
    elasticsearch: int = 9200
    redis: int = 6379
    flink_rest: int = 8081
    flink_rpc: int = 6123
    api: int = 8000
    # The JobManager's Prometheus endpoint; TaskManager N's is flink_metrics + N.
    flink_metrics: int = 9249
    # First TaskManager's RPC and data (shuffle) ports; TaskManager N adds N - 1.
    flink_tm_rpc: int = 6130
    flink_tm_data: int = 6160

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackPorts:
        env = os.environ if environ is None else environ
        own: dict[str, int] = {}
        for name, default in _OWN_PORT_VARIABLES.items():
            value = env.get(name, "") or str(default)
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise StackError(f"{name}={value!r} is not a port number; fix or unset it")
            own[name] = int(value)
        return cls(
            kafka=_port_of_bootstrap(KafkaSettings.from_env(env).bootstrap_servers),
            kafka_controller=own["LOGFLOW_KAFKA_CONTROLLER_PORT"],
            elasticsearch=_port_of_url(ElasticsearchSettings.from_env(env).url, 9200, "LOGFLOW_ES_URL"),
            redis=_port_of_url(RedisSettings.from_env(env).url, 6379, "LOGFLOW_REDIS_URL"),
            flink_rest=_port_of_url(flink_rest_url(env), 8081, "LOGFLOW_FLINK_REST"),
            flink_rpc=own["LOGFLOW_FLINK_RPC_PORT"],
            api=_port_of_url(api_url(env), 8000, "LOGFLOW_API_URL"),
            flink_metrics=own["LOGFLOW_FLINK_METRICS_PORT"],
            flink_tm_rpc=own["LOGFLOW_FLINK_TM_RPC_PORT"],
            flink_tm_data=own["LOGFLOW_FLINK_TM_DATA_PORT"],
        )

    def taskmanager(self, index: int) -> TaskManagerPorts:
        """The ports of TaskManager ``index`` (1-based)."""
        if index < 1:
            raise ValueError(f"TaskManagers are numbered from 1, not {index}")
        return TaskManagerPorts(
            rpc=self.flink_tm_rpc + index - 1,
            data=self.flink_tm_data + index - 1,
            metrics=self.flink_metrics + index,
        )

    def check_distinct(self, taskmanagers: int) -> None:
        """Fail before anything starts when two services would want the same port.

        The per-TaskManager ranges grow with ``LOGFLOW_TASKMANAGERS`` and can run into each other or
        into a fixed port; a clash found only at bind time would leave a half-started cluster.
        """
        owners: dict[int, str] = {}
        named = [
            ("kafka", self.kafka),
            ("kafka controller", self.kafka_controller),
            ("elasticsearch", self.elasticsearch),
            ("redis", self.redis),
            ("flink rest", self.flink_rest),
            ("flink rpc", self.flink_rpc),
            ("rules api", self.api),
            ("flink-jobmanager metrics", self.flink_metrics),
        ]
        for index in range(1, taskmanagers + 1):
            tm = self.taskmanager(index)
            named += [
                (f"flink-taskmanager-{index} rpc", tm.rpc),
                (f"flink-taskmanager-{index} data", tm.data),
                (f"flink-taskmanager-{index} metrics", tm.metrics),
            ]
        for what, port in named:
            if not 0 < port < 65536:
                raise StackError(f"{what} port {port} is out of range: lower its base port variable")
            if port in owners:
                raise StackError(
                    f"{what} and {owners[port]} would both use port {port}: move one with "
                    "LOGFLOW_FLINK_TM_RPC_PORT, LOGFLOW_FLINK_TM_DATA_PORT, LOGFLOW_FLINK_METRICS_PORT "
                    "or the service's own variable"
                )
            owners[port] = what
