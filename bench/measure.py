"""Measurement helpers shared by the end-to-end benchmarks (bench_pipeline, bench_peer).

Throughput is read from Elasticsearch's searchable count, polled without forcing a refresh; CPU
from /proc: each local service's process tree by the stack's pid files, any other process by pid.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from e2e_harness import wait_for

from common.settings import logflow_home

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RESULTS = Path(__file__).resolve().parent / "results"  # git-ignored


@dataclass(frozen=True)
class Throughput:
    whole_run: float  # events / (start -> last event searchable)
    sustained: float  # slope of the searchable count between 10% and 90% of the events


def searchable_count(es: Any, pattern: str) -> int:
    """Documents searchable now. No forced refresh: polling with one would make Elasticsearch
    write a segment per poll and slow the very thing measured."""
    return int(es.options(ignore_status=404).count(index=pattern).get("count", 0))


def poll_progress(progress: Callable[[], int], total: int, started: float) -> Throughput:
    """Poll ``progress`` every 250 ms until it reaches ``total``; both rates from the samples."""
    samples: list[tuple[float, int]] = []

    from elasticsearch import ApiError

    def done() -> bool:
        try:
            samples.append((time.perf_counter(), progress()))
        except ApiError as exc:
            if exc.meta.status != 503:  # a shard of a just-created index not yet started: poll again
                raise
            return False
        return samples[-1][1] >= total

    wait_for("all documents to be searchable", done, 1800, 0.25)
    return Throughput(total / (samples[-1][0] - started), sustained_rate(samples, total))


def steady_window(samples: list[tuple[float, int]], total: int) -> tuple[int, int]:
    """Indices of the samples that first reach 10% and 90% of ``total``.

    Leaves out the start (the consumer catching up on a backlog it has only begun to see) and the
    end (the last refresh before the final documents become searchable), which are latencies, not rate.
    """
    low = next(i for i, s in enumerate(samples) if s[1] >= total * 0.1)
    high = next(i for i, s in enumerate(samples) if s[1] >= total * 0.9)
    return low, high


def sustained_rate(samples: list[tuple[float, int]], total: int) -> float:
    """Events per second between the samples that first reach 10% and 90% of ``total``."""
    low, high = (samples[i] for i in steady_window(samples, total))
    if high[0] <= low[0]:
        return total / max(samples[-1][0] - samples[0][0], 1e-9)
    return (high[1] - low[1]) / (high[0] - low[0])


def node_bulk_counters(es: Any) -> tuple[int, int]:
    """(documents indexed, shard-level bulk operations) over the nodes' life, from node stats."""
    nodes = es.nodes.stats(metric="indices", index_metric="indexing,bulk")["nodes"]
    indexed = sum(n["indices"]["indexing"]["index_total"] for n in nodes.values())
    bulks = sum(n["indices"]["bulk"]["total_operations"] for n in nodes.values())
    return indexed, bulks


def docs_per_bulk(before: tuple[int, int], after: tuple[int, int]) -> float:
    # Every bulk request costs Elasticsearch a translog fsync per shard it touches: the size of
    # those shard-level bulks is what separates an efficient writer from a wasteful one.
    return (after[0] - before[0]) / max(after[1] - before[1], 1)


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    # Each run against the one measured right next to it: same machine load.
    return round(statistics.median(n / d for n, d in zip(numerators, denominators, strict=True)), 3)


def cpu_seconds_from_stat(stat_line: str, clock_ticks: int = _CLOCK_TICKS) -> float:
    """CPU seconds in one /proc/<pid>/stat line: utime + stime + cutime + cstime.

    The command name (field 2) is in parentheses and may hold spaces and ')', so the fields are
    counted from the last ')'. Children that were reaped count too (cutime, cstime).
    """
    fields = stat_line.rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / clock_ticks


def process_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return cpu_seconds_from_stat(stat.read())
    except (OSError, IndexError, ValueError):
        return 0.0  # gone (or going) since it was listed


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    return children


def process_tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    """``pid`` and every descendant, ``pid`` first."""
    tree, seen = [pid], 0
    while seen < len(tree):
        tree.extend(children.get(tree[seen], []))
        seen += 1
    return tree


def service_cpu_seconds(extra: dict[str, int] | None = None) -> dict[str, float]:
    """CPU seconds of each local service's process tree (the TaskManager's includes its Python
    workers), of this process and its children ("benchmark"), and of each ``extra`` pid's tree."""
    run_dir = logflow_home() / "run"
    children = _children()
    totals: dict[str, float] = {}
    for pid_file in sorted(run_dir.glob("*.pid")):
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        tree = process_tree(pid, children)
        totals[pid_file.stem] = sum(process_cpu_seconds(p) for p in tree)
        if len(tree) > 1:
            # The TaskManager's Python workers are its children: split them out so that the JVM's
            # share (Kafka source, batching window, Beam runner) and Python's are told apart.
            totals[f"{pid_file.stem}.children"] = sum(process_cpu_seconds(p) for p in tree[1:])
    for name, pid in (extra or {}).items():
        totals[name] = sum(process_cpu_seconds(p) for p in process_tree(pid, children))
    # This process and its children: the producer, pollers and any private rules API.
    own = [os.getpid(), *children.get(os.getpid(), [])]
    totals["benchmark"] = sum(process_cpu_seconds(p) for p in own if p not in (extra or {}).values())
    return totals


def per_event_us(
    before: dict[str, float], after: dict[str, float], events: int, digits: int | None = None
) -> dict[str, float]:
    """CPU microseconds per event of every group in ``after`` since ``before``, rounded to ``digits``
    (``None``: whole microseconds)."""
    return {name: round((after[name] - before.get(name, 0.0)) / events * 1e6, digits) for name in after}


def median_by_key(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    rows = list(rows)
    return {key: statistics.median(row.get(key, 0.0) for row in rows) for key in rows[0]} if rows else {}


def publish_report(report: dict[str, Any], name: str, table_text: str) -> Path:
    """Write ``report`` to ``bench/results/<name>.json`` (git-ignored); the table to stderr, the
    JSON to stdout, then where it was written."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(table_text, file=sys.stderr)
    print(json.dumps(report, indent=2))
    print(f"written to {out}", file=sys.stderr)
    return out
