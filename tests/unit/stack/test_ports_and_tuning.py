"""Stack ports follow the client settings; bad values fail with one line naming the variable."""

from __future__ import annotations

import pytest

from deploy.stack.errors import StackError
from deploy.stack.ports import StackPorts
from deploy.stack.tuning import StackTuning


def test_defaults_are_the_documented_ports() -> None:
    ports = StackPorts.from_env({})
    assert (ports.kafka, ports.kafka_controller, ports.elasticsearch, ports.redis) == (9092, 9093, 9200, 6379)
    assert (ports.flink_rest, ports.flink_rpc, ports.api) == (8081, 6123, 8000)


def test_ports_follow_the_client_urls() -> None:
    ports = StackPorts.from_env(
        {
            "LOGFLOW_KAFKA_BOOTSTRAP": "127.0.0.1:29092",
            "LOGFLOW_ES_URL": "http://127.0.0.1:29200",
            "LOGFLOW_REDIS_URL": "redis://127.0.0.1:26379/0",
            "LOGFLOW_FLINK_REST": "http://127.0.0.1:28081",
            "LOGFLOW_API_URL": "http://127.0.0.1:28000",
            "LOGFLOW_KAFKA_CONTROLLER_PORT": "29093",
        }
    )
    assert (ports.kafka, ports.elasticsearch, ports.redis, ports.flink_rest, ports.api) == (
        29092,
        29200,
        26379,
        28081,
        28000,
    )
    assert ports.kafka_controller == 29093


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"LOGFLOW_KAFKA_BOOTSTRAP": "localhost"}, "LOGFLOW_KAFKA_BOOTSTRAP"),
        ({"LOGFLOW_REDIS_URL": "redis://127.0.0.1:notaport/0"}, "LOGFLOW_REDIS_URL"),
        ({"LOGFLOW_KAFKA_CONTROLLER_PORT": "x"}, "LOGFLOW_KAFKA_CONTROLLER_PORT"),
    ],
)
def test_invalid_port_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(StackError, match=variable):
        StackPorts.from_env(env)


def test_tuning_defaults_fit_the_box_and_reject_bad_sizes() -> None:
    tuning = StackTuning.from_env({})
    assert (tuning.elasticsearch_heap, tuning.flink_slots) == ("1g", 4)
    assert StackTuning.from_env({"LOGFLOW_ES_HEAP": "2G"}).elasticsearch_heap == "2g"
    with pytest.raises(StackError, match="LOGFLOW_ES_HEAP"):
        StackTuning.from_env({"LOGFLOW_ES_HEAP": "lots"})
    with pytest.raises(StackError, match="LOGFLOW_FLINK_SLOTS"):
        StackTuning.from_env({"LOGFLOW_FLINK_SLOTS": "0"})
