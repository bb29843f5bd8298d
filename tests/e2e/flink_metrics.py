"""Reading the Flink TaskManagers' Prometheus endpoints, as Prometheus would, for one job's series."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from deploy.stack import taskmanagers
from deploy.stack.layout import StackLayout
from deploy.stack.ports import StackPorts

OPERATOR_PREFIX = "flink_taskmanager_job_task_operator_"
LOGFLOW_PREFIX = OPERATOR_PREFIX + "logflow_"

# `name{label="value",...,} 12.0` — Flink's reporter ends the label list with a comma.
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
_INVALID = re.compile(r"[^a-zA-Z0-9:_]")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def label_value(value: str) -> str:
    """A label value as Flink's reporter writes it: every character outside [a-zA-Z0-9:_] becomes _."""
    return _INVALID.sub("_", value)


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def endpoints() -> list[str]:
    """The /metrics URL of every TaskManager of the running stack (one per pid file)."""
    layout = StackLayout.from_env()
    ports = StackPorts.from_env()
    indices = sorted(i for i in taskmanagers.indices_on_disk(layout) if taskmanagers.pid(layout, i))
    assert indices, f"no TaskManager pid file under {layout.run}"
    return [f"http://127.0.0.1:{ports.taskmanager(i).metrics}/metrics" for i in indices]


def parse(text: str) -> Iterable[Sample]:
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            continue
        name, labels, value = match.groups()
        yield Sample(name, dict(_LABEL.findall(labels or "")), float(value))


def scrape(job_id: str) -> list[Sample]:
    """Every sample of ``job_id`` on every TaskManager."""
    samples: list[Sample] = []
    for url in endpoints():
        response = httpx.get(url, timeout=10)
        response.raise_for_status()
        samples.extend(s for s in parse(response.text) if s.labels.get("job_id") == job_id)
    return samples


def total(samples: Iterable[Sample], name: str, **labels: str) -> float:
    """The sum over subtasks and TaskManagers of the series ``name`` with these labels."""
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(key) == value for key, value in labels.items())
    )


def logflow_totals(samples: Iterable[Sample]) -> dict[str, float]:
    """The job's own counters summed over every operator, subtask and TaskManager, by short name."""
    totals: dict[str, float] = {}
    for s in samples:
        if s.name.startswith(LOGFLOW_PREFIX):
            short = s.name.removeprefix(LOGFLOW_PREFIX)
            if "rule" in s.labels and short == "rule_hits":
                short = f"rule_hits:{s.labels['rule']}"
            totals[short] = totals.get(short, 0.0) + s.value
    return totals
