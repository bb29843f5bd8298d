"""Generated service configuration: the settings the local stack depends on."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from deploy.stack import configs
from deploy.stack.ports import StackPorts


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_kafka_is_single_node_kraft_on_loopback_with_two_partitions(tmp_path: Path) -> None:
    props = _props(configs.kafka_server_properties(StackPorts(kafka=19092, kafka_controller=19093), tmp_path))
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert props["num.partitions"] == "2"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["log.dirs"] == str(tmp_path)


def test_kafka_cluster_id_is_16_bytes_base64url() -> None:
    cluster_id = configs.new_kafka_cluster_id()
    assert len(cluster_id) == 22
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert cluster_id != configs.new_kafka_cluster_id()


def test_kafka_cluster_id_never_reads_as_an_option() -> None:
    # StorageTool's parser takes "-t -abc..." for an option: one random id in 64 started with "-"
    # and failed the stack's first start. 2,000 draws hit that with probability 1 - 10^-14.
    assert not any(configs.new_kafka_cluster_id().startswith("-") for _ in range(2000))


def test_kafka_log4j2_config_is_valid_yaml() -> None:
    assert yaml.safe_load(configs.KAFKA_LOG4J2_YAML)["Configuration"]["Appenders"]["Console"]


def test_redis_binds_loopback_persists_with_aof_and_stays_in_foreground(tmp_path: Path) -> None:
    lines = configs.redis_conf(StackPorts(redis=16379), tmp_path).splitlines()
    assert "bind 127.0.0.1" in lines
    assert "port 16379" in lines
    assert "appendonly yes" in lines
    assert "daemonize no" in lines
    assert f"dir {tmp_path}" in lines


def test_elasticsearch_single_node_on_loopback_without_disk_watermarks(tmp_path: Path) -> None:
    text = configs.elasticsearch_yml(StackPorts(elasticsearch=19200), tmp_path / "d", tmp_path / "l", False)
    settings = yaml.safe_load(text)
    assert settings["discovery.type"] == "single-node"
    assert settings["network.host"] == "127.0.0.1"
    assert settings["http.port"] == 19200
    assert settings["cluster.routing.allocation.disk.threshold_enabled"] is False
    assert not any(key.startswith("xpack.") for key in settings)


def test_elasticsearch_security_is_switched_off_only_when_the_module_exists(tmp_path: Path) -> None:
    text = configs.elasticsearch_yml(StackPorts(), tmp_path, tmp_path, True)
    assert yaml.safe_load(text)["xpack.security.enabled"] is False


def test_elasticsearch_heap_is_fixed() -> None:
    assert configs.elasticsearch_heap_options("1g").split() == ["-Xms1g", "-Xmx1g"]


def test_flink_overrides_nest_into_the_distribution_config(tmp_path: Path) -> None:
    base = {"rest": {"address": "localhost"}, "taskmanager": {"numberOfTaskSlots": 1}, "env": {"java": {}}}
    overrides = configs.flink_overrides(
        StackPorts(flink_rest=18081),
        tmp_path,
        Path("/repo/.venv/bin/python"),
        taskmanager_process_size="4096m",
        jobmanager_process_size="1024m",
        slots=2,
    )
    merged = configs.merge_dotted(base, overrides)
    assert merged["rest"] == {"address": "127.0.0.1", "bind-address": "127.0.0.1", "port": 18081}
    assert merged["taskmanager"]["numberOfTaskSlots"] == 2
    assert merged["taskmanager"]["memory"]["process"]["size"] == "4096m"
    assert merged["python"]["executable"] == "/repo/.venv/bin/python"
    assert merged["execution"]["checkpointing"]["dir"] == (tmp_path / "checkpoints").as_uri()
    assert merged["env"] == {"java": {}}
    assert base["rest"] == {"address": "localhost"}, "the input must not be modified"


def test_merge_dotted_replaces_a_flat_spelling_of_the_same_key() -> None:
    merged = configs.merge_dotted({"rest.port": 1, "other": 2}, {"rest.port": 3})
    assert merged == {"rest": {"port": 3}, "other": 2}
