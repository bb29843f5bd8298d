"""Sizing knobs of the local stack (heaps, Flink memory, slots, timeouts), read from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import StackError

_SIZE = re.compile(r"^\d+[kmgKMG]?$")


def _size(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "") or default
    if not _SIZE.match(value):
        raise StackError(f"{name}={value!r} is not a size like 768m or 1g; fix or unset it")
    return value.lower()


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "") or str(default)
    if not raw.isdigit() or int(raw) <= 0:
        raise StackError(f"{name}={raw!r} must be a positive integer; fix or unset it")
    return int(raw)


@dataclass(frozen=True)
class StackTuning:
    # Defaults fit Kafka + Elasticsearch + Flink + Python workers on a 2-core, 24 GB machine.
    kafka_heap: str = "768m"
    elasticsearch_heap: str = "1g"
    elasticsearch_user: str = "logflow-es"
    flink_jobmanager_memory: str = "1024m"
    flink_taskmanager_memory: str = "4096m"
    # The pipeline runs with parallelism 2; four slots let a second job (the tests' or a
    # benchmark's) run beside the demo's instead of waiting for slots that never free up.
    flink_slots: int = 4
    # Standalone TaskManagers on this machine, each with flink_slots slots and its own ports.
    taskmanagers: int = 1
    start_timeout: int = 300

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackTuning:
        env = os.environ if environ is None else environ
        return cls(
            kafka_heap=_size(env, "LOGFLOW_KAFKA_HEAP", cls.kafka_heap),
            elasticsearch_heap=_size(env, "LOGFLOW_ES_HEAP", cls.elasticsearch_heap),
            elasticsearch_user=env.get("LOGFLOW_ES_USER", "") or cls.elasticsearch_user,
            flink_jobmanager_memory=_size(env, "LOGFLOW_FLINK_JM_MEMORY", cls.flink_jobmanager_memory),
            flink_taskmanager_memory=_size(env, "LOGFLOW_FLINK_TM_MEMORY", cls.flink_taskmanager_memory),
            flink_slots=_int(env, "LOGFLOW_FLINK_SLOTS", cls.flink_slots),
            taskmanagers=_int(env, "LOGFLOW_TASKMANAGERS", cls.taskmanagers),
            start_timeout=_int(env, "LOGFLOW_STACK_TIMEOUT", cls.start_timeout),
        )
