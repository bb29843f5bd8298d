"""Generated configuration files for each service: pure functions from ports and paths to text.

Kept free of side effects so unit tests can check every setting that matters for a 2-core box.
"""

from __future__ import annotations

import base64
import copy
import uuid
from pathlib import Path
from typing import Any

from .ports import StackPorts

LOOPBACK = "127.0.0.1"


def new_kafka_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as StorageTool makes).

    Never one that starts with "-", which Kafka's own ``Uuid.randomUuid`` also redraws: the tool's
    argument parser reads ``-t -xyz...`` as an option and fails (1 format in 64).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def kafka_server_properties(ports: StackPorts, data_dir: Path) -> str:
    settings = {
        # One JVM is broker and controller (KRaft combined mode): the smallest real cluster.
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{LOOPBACK}:{ports.kafka_controller}",
        "listeners": f"PLAINTEXT://{LOOPBACK}:{ports.kafka},CONTROLLER://{LOOPBACK}:{ports.kafka_controller}",
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{ports.kafka}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "2",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Consumers in tests join right after topics are created; don't make them wait 3s for peers.
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "log.retention.hours": "72",
        "log.segment.bytes": str(256 * 1024 * 1024),
        "auto.create.topics.enable": "true",
        # Log lines of 1 MiB and more must reach the job, which truncates and tags them; Kafka's
        # 1 MB default would reject them at the producer instead.
        "message.max.bytes": str(16 * 1024 * 1024),
        "replica.fetch.max.bytes": str(16 * 1024 * 1024),
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


KAFKA_LOG4J2_YAML = """\
# The broker logs to stdout, which the stack appends to logs/kafka.log.
Configuration:
  name: logflow-kafka
  Appenders:
    Console:
      name: STDOUT
      target: SYSTEM_OUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: INFO
      - name: kafka.log.LogCleaner
        level: WARN
      - name: state.change.logger
        level: WARN
"""


def redis_conf(ports: StackPorts, data_dir: Path) -> str:
    lines = [
        f"bind {LOOPBACK}",
        f"port {ports.redis}",
        "protected-mode yes",
        "daemonize no",
        # The stack writes the pid file itself; Redis must not fight over it.
        'pidfile ""',
        f"dir {data_dir}",
        # The rules API keeps rules here: they must survive a restart.
        "appendonly yes",
        "appendfsync everysec",
        "save 900 1 300 10 60 10000",
        'logfile ""',
        "loglevel notice",
        "maxmemory 1gb",
        "maxmemory-policy noeviction",
    ]
    return "\n".join(lines) + "\n"


def elasticsearch_yml(ports: StackPorts, data_dir: Path, logs_dir: Path, has_security_module: bool) -> str:
    # Security is off locally; clients still support credentials and TLS for real clusters
    # (common.settings). Older integ-test zips ship no x-pack at all and reject any xpack.* setting;
    # 8.19.x ships x-pack-security, which must be switched off explicitly or its first-start
    # auto-configuration enables TLS and passwords.
    lines = [
        "cluster.name: logflow-local",
        "node.name: logflow-es-1",
        f"path.data: {data_dir}",
        f"path.logs: {logs_dir}",
        f"network.host: {LOOPBACK}",
        f"http.port: {ports.elasticsearch}",
        "transport.port: 9300-9399",
        "discovery.type: single-node",
        # A dev box's nearly full disk must not silently turn indices read-only.
        "cluster.routing.allocation.disk.threshold_enabled: false",
        "action.destructive_requires_name: false",
    ]
    if has_security_module:
        lines.append("xpack.security.enabled: false")
    return "\n".join(lines) + "\n"


def elasticsearch_heap_options(heap: str) -> str:
    """jvm.options.d file: a fixed heap leaves room for Kafka and Flink on a 24 GB, 2-core box."""
    return f"-Xms{heap}\n-Xmx{heap}\n"


def flink_overrides(
    ports: StackPorts,
    data_dir: Path,
    python_executable: Path,
    taskmanager_process_size: str,
    jobmanager_process_size: str,
    slots: int,
) -> dict[str, Any]:
    """Dotted Flink keys layered over the distribution's config.yaml."""
    return {
        "jobmanager.rpc.address": LOOPBACK,
        "jobmanager.rpc.port": ports.flink_rpc,
        "jobmanager.bind-host": LOOPBACK,
        "jobmanager.memory.process.size": jobmanager_process_size,
        "taskmanager.bind-host": LOOPBACK,
        "taskmanager.host": LOOPBACK,
        "taskmanager.numberOfTaskSlots": slots,
        # Spread each job's slots over the TaskManagers rather than filling the first one: a job
        # at parallelism 4 on two TaskManagers then really runs on both, and losing one machine
        # costs half of its subtasks, not all of them (Flink's default, NONE, packs them).
        "taskmanager.load-balance.mode": "SLOTS",
        "taskmanager.memory.process.size": taskmanager_process_size,
        # PyFlink's Python workers draw on managed memory; give them a generous share.
        "taskmanager.memory.managed.fraction": 0.4,
        # Every job's Python runner and Kafka classes come from the cluster's lib (see
        # write_flink_lib); parent-first loading keeps jobs from defining them again each time.
        "classloader.resolve-order": "parent-first",
        "taskmanager.memory.jvm-metaspace.size": "512m",
        "rest.address": LOOPBACK,
        "rest.bind-address": LOOPBACK,
        "rest.port": ports.flink_rest,
        "parallelism.default": 2,
        "python.executable": str(python_executable),
        "python.client.executable": str(python_executable),
        "state.checkpoints.dir": (data_dir / "checkpoints").as_uri(),
        "state.savepoints.dir": (data_dir / "savepoints").as_uri(),
        "execution.checkpointing.dir": (data_dir / "checkpoints").as_uri(),
        "execution.checkpointing.savepoint-dir": (data_dir / "savepoints").as_uri(),
        "io.tmp.dirs": str(data_dir / "tmp"),
        "web.upload.dir": str(data_dir / "uploads"),
        # A TaskManager killed with -9 should be noticed in seconds, not the default 50.
        "heartbeat.timeout": 15000,
        "heartbeat.interval": 3000,
        "restart-strategy.type": "exponential-delay",
        # Prometheus endpoint of every Flink process. The plugin is in the wheel's plugins/ (Flink's
        # default FLINK_PLUGINS_DIR). This port is the JobManager's: each TaskManager gets its own
        # with -D (taskmanager_dynamic_properties), not a range, so its address is known in advance.
        # The 2.2 reporter has only a port option, no host: it listens on all interfaces.
        "metrics.reporter.prom.factory.class": PROMETHEUS_REPORTER_FACTORY,
        "metrics.reporter.prom.port": str(ports.flink_metrics),
    }


PROMETHEUS_REPORTER_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"


def taskmanager_dynamic_properties(
    ports: StackPorts, index: int, resource_id: str, tmp_dir: Path, working_dir: Path
) -> dict[str, str]:
    """``-D`` settings that set TaskManager ``index`` apart from the others sharing flink/conf.

    Several TaskManagers on one host share one config file; whatever must differ between them
    (ports, resource id, scratch directories) is passed on each one's command line instead.
    """
    tm = ports.taskmanager(index)
    return {
        # A fresh id per start tells this TaskManager apart from a killed one the JobManager
        # still lists until its heartbeat times out.
        "taskmanager.resource-id": resource_id,
        "taskmanager.rpc.port": str(tm.rpc),
        "taskmanager.data.port": str(tm.data),
        "metrics.reporter.prom.port": str(tm.metrics),
        "io.tmp.dirs": str(tmp_dir),
        "process.taskmanager.working-dir": str(working_dir),
    }


def merge_dotted(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Apply dotted keys to a nested YAML mapping, replacing any flat spelling of the same key.

    Flink 2's config.yaml accepts nested and flat keys; keeping a single spelling of each avoids the
    ambiguity of both being present.
    """
    merged: dict[str, Any] = {
        key: copy.deepcopy(value) for key, value in base.items() if key not in overrides
    }
    for dotted, value in overrides.items():
        node = merged
        parts = dotted.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return merged
