"""Create the stack's Kafka topics idempotently (existing topics are left as they are)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from common.settings import KafkaSettings, TopicSettings

from .errors import StackError


def desired_topics(topics: TopicSettings) -> dict[str, tuple[int, dict[str, str]]]:
    """topic -> (partitions, config). The rules topic is compacted with one partition (a total order)."""
    wanted: dict[str, tuple[int, dict[str, str]]] = {name: (2, {}) for name in topics.logs}
    wanted[topics.rules] = (1, {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1"})
    wanted[topics.alerts] = (1, {})
    wanted[topics.deadletter] = (1, {})
    return wanted


def ensure_topics(environ: Mapping[str, str], timeout: float = 60.0) -> list[str]:
    """Create missing topics; returns the names created. Retries while the broker finishes starting."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    config: dict[str, str | int | float | bool] = dict(KafkaSettings.from_env(environ).client_config())
    admin = AdminClient(config)
    wanted = desired_topics(TopicSettings.from_env(environ))
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        try:
            existing = set(admin.list_topics(timeout=5).topics)
        except KafkaException as exc:
            last_error = str(exc)
            time.sleep(1)
            continue
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=1, config=config)
            for name, (partitions, config) in wanted.items()
            if name not in existing
        ]
        if not missing:
            return []
        created: list[str] = []
        retry = False
        for name, future in admin.create_topics(missing, request_timeout=15).items():
            try:
                future.result()
                created.append(name)
            except KafkaException as exc:
                error = exc.args[0]
                if getattr(error, "name", lambda: "")() == "TOPIC_ALREADY_EXISTS":
                    continue
                last_error = str(exc)
                retry = True
        if not retry:
            return created
        time.sleep(1)
    raise StackError(f"could not create Kafka topics within {timeout:.0f}s: {last_error}")
