"""End-to-end pipeline benchmark on the local stack (Kafka -> Flink job -> Elasticsearch + Redis).

    .venv/bin/python bench/bench_pipeline.py --events 30000 --runs 3 --rules 100

Runs a private pipeline (its own topics, rules API, job at parallelism 2, indices and Redis keys;
see tests/e2e/e2e_harness.py) with ``--rules`` realistic rules (bench_rules.make_rules), then:

- warm-up: ``--warmup-events`` (50,000) lines through the pipeline and then the ceiling, not
  counted: the first seconds of a fresh job (cold JIT, Python workers starting) and of fresh
  indices are not the steady state a long-running job lives in;
- throughput: per run, ``--events`` lines are produced to the logs topic and timed until all of
  them are accounted for in Elasticsearch (searchable, or dropped by a rule). Two figures: the
  sustained rate (the slope of the searchable count between 10% and 90% of the events, polled
  every 250 ms without forcing a refresh) and the whole-run rate (produce start to the last event
  searchable, which adds the job's batching delay and Elasticsearch's 1 s refresh once);
- the Elasticsearch ingest ceiling in the same run: the very documents the pipeline wrote, read
  back and bulk-indexed with the Python client's ``parallel_bulk`` into fresh indices with the same
  template, timed to searchable with the same polling, so both rates are measured the same way;
  the pipeline's indices are dropped after each run, so both also start each run on fresh indices;
  the ratios pipeline/ceiling (sustained and whole run) are reported;
- hot-reload latency: a probe line every 20 ms while a rule is updated through the API; latency is
  the first probe whose ``event.ingested`` (stamped when the job parsed it) shows the new tag, minus
  the time the API answered 2xx;
- checkpoint duration (Flink's checkpoint history) and end-to-end latency (Kafka append ->
  searchable) of single probes;
- CPU seconds per event of each local service (from /proc, by the stack's pid files) during the
  pipeline runs and the ceiling runs, which shows where the pipeline spends what the ceiling does
  not.

Prints JSON with medians. Needs `logflow stack up` and two free task slots.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))  # the private-pipeline harness the e2e tests use
sys.path.insert(0, str(REPO / "bench"))

from bench_api import percentile  # noqa: E402
from bench_rules import LOGHUB, corpus_words, make_rules  # noqa: E402
from e2e_harness import Pipeline, wait_for  # noqa: E402
from measure import (  # noqa: E402
    Throughput,
    docs_per_bulk,
    median_by_key,
    median_ratio,
    node_bulk_counters,
    per_event_us,
    poll_progress,
    searchable_count,
    service_cpu_seconds,
)

from common.schema.alert import records_indices  # noqa: E402
from common.settings import flink_rest_url  # noqa: E402
from jobs.control.flink_rest import FlinkRest  # noqa: E402

SAMPLES = REPO / "deploy" / "samples" / "mixed.log"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def source_lines() -> list[bytes]:
    paths = sorted(LOGHUB.glob("*_2k.log")) or [SAMPLES]
    lines: list[bytes] = []
    for path in paths:
        lines.extend(line for line in path.read_bytes().split(b"\n") if line.strip())
    return lines


def workload(lines: list[bytes], count: int, run: int) -> list[bytes]:
    # A run tag keeps every message distinct across runs (no two runs index the same text).
    return [lines[i % len(lines)] + f" r{run}n{i}".encode() for i in range(count)]


def measure_throughput(pipeline: Pipeline, events: list[bytes]) -> Throughput:
    es = pipeline.es()
    pattern = records_indices(pipeline.index_prefix)
    try:
        before = searchable_count(es, pattern)
        dropped_before = sum(w.dropped for w in pipeline.windows())
        started = time.perf_counter()
        pipeline.produce(events)

        def progress() -> int:
            dropped = sum(w.dropped for w in pipeline.windows()) - dropped_before
            return searchable_count(es, pattern) - before + dropped

        return poll_progress(progress, len(events), started)
    finally:
        es.close()


def export_documents(pipeline: Pipeline, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
    from elasticsearch.helpers import scan

    es = pipeline.es()
    try:
        docs = []
        for hit in scan(
            es, index=f"{pipeline.index_prefix}-*", query={"query": {"match_all": {}}}, size=2000
        ):
            docs.append((hit["_index"], hit["_id"], hit["_source"]))
            if len(docs) >= limit:
                break
        return docs
    finally:
        es.close()


def measure_ceiling(pipeline: Pipeline, docs: list[tuple[str, str, dict[str, Any]]], run: int) -> Throughput:
    """The same documents through ``parallel_bulk``, timed to searchable exactly like the pipeline.

    Same ``_id``s too: the pipeline's deterministic ids (topic:partition:offset) are part of what it
    must write, and an id's length and order change what Elasticsearch's id lookup costs.
    """
    from elasticsearch.helpers import parallel_bulk

    es, poller = pipeline.es(), pipeline.es()
    prefix = f"{pipeline.index_prefix}-ceiling{run}"
    actions = (
        {
            "_index": index.replace(f"{pipeline.index_prefix}-", f"{prefix}-", 1),
            "_id": doc_id,
            "_source": source,
        }
        for index, doc_id, source in docs
    )
    failures: list[Any] = []

    def index_all() -> None:
        try:
            for ok, item in parallel_bulk(es, actions, thread_count=2, chunk_size=1000, raise_on_error=False):
                if not ok:
                    failures.append(item)
        except Exception as exc:  # reported by the poller below
            failures.append(exc)

    def progress() -> int:
        if failures:
            raise RuntimeError(f"ceiling bulk failed: {failures[0]}")
        return searchable_count(poller, f"{prefix}-*")

    writer = threading.Thread(target=index_all, daemon=True)
    started = time.perf_counter()
    writer.start()
    try:
        return poll_progress(progress, len(docs), started)
    finally:
        writer.join(60)
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
        es.close()
        poller.close()


def drop_pipeline_indices(pipeline: Pipeline) -> None:
    """Every run starts on fresh indices, as the ceiling's do: id lookups cost more in big ones."""
    es = pipeline.es()
    try:
        es.options(ignore_status=404).indices.delete(index=f"{pipeline.index_prefix}-*")
    finally:
        es.close()


def measure_hot_reload(pipeline: Pipeline, rule_id: str, rounds: int) -> list[float]:
    marker = f"reload{uuid.uuid4().hex[:8]}"
    rule = {
        "id": rule_id,
        "enabled": True,
        "priority": 1000,
        "when": {"field": "message", "op": "contains", "value": marker},
        "then": [{"action": "tag", "value": "v0"}],
    }
    response = pipeline.api("POST", "/rules", json=rule)
    response.raise_for_status()
    etag = response.headers["ETag"]
    stop = threading.Event()

    def probes() -> None:
        n = 0
        while not stop.is_set():
            pipeline.produce([f"Nov 22 10:00:00 bench probe[1]: {marker} {n}"])
            n += 1
            time.sleep(0.02)

    thread = threading.Thread(target=probes, daemon=True)
    thread.start()
    latencies: list[float] = []
    try:
        time.sleep(3)
        for version in range(1, rounds + 1):
            tag = f"v{version}"
            rule["then"] = [{"action": "tag", "value": tag}]
            response = pipeline.api("PUT", f"/rules/{rule_id}", json=rule, headers={"If-Match": etag})
            response.raise_for_status()
            answered = time.time()
            etag = response.headers["ETag"]
            query = {"bool": {"filter": [{"term": {"tags": tag}}, {"match_phrase": {"message": marker}}]}}
            hits = wait_for(f"probes tagged {tag}", lambda q=query: pipeline.search(q, size=50), 60, 0.2)
            first = min(_epoch(h["_source"]["event"]["ingested"]) for h in hits)
            latencies.append(first - answered)
            time.sleep(1)
    finally:
        stop.set()
        thread.join(5)
    return latencies


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def measure_e2e_latency(pipeline: Pipeline, probes: int) -> list[float]:
    latencies = []
    for n in range(probes):
        marker = f"lat{uuid.uuid4().hex[:10]}"
        started = time.perf_counter()
        ids = pipeline.produce([f"Nov 22 10:00:00 bench latency[1]: {marker} {n}"])
        appended = time.perf_counter()
        wait_for("a latency probe", lambda i=ids: pipeline.documents(i), 60, 0.05)
        latencies.append(time.perf_counter() - appended + (appended - started) / 2)
    return latencies


def bulk_counters(pipeline: Pipeline) -> tuple[int, int]:
    es = pipeline.es()
    try:
        return node_bulk_counters(es)
    finally:
        es.close()


@dataclass(frozen=True)
class Round:
    """One timed run: the pipeline, then the ceiling on the documents it wrote."""

    pipeline: Throughput
    ceiling: Throughput
    cpu_pipeline: dict[str, float]
    cpu_ceiling: dict[str, float]
    docs_per_bulk_pipeline: float
    docs_per_bulk_ceiling: float
    # Alerts are documents too, and a retried bulk item is indexed again: what Elasticsearch did
    # per consumed event, beside what the ceiling does per document.
    es_docs_per_event: float


def run_round(pipeline: Pipeline, events: list[bytes], run: int) -> Round:
    before, bulks = service_cpu_seconds(), bulk_counters(pipeline)
    throughput = measure_throughput(pipeline, events)
    cpu_pipeline = per_event_us(before, service_cpu_seconds(), len(events))
    after = bulk_counters(pipeline)
    docs = export_documents(pipeline, len(events))
    drop_pipeline_indices(pipeline)
    before_ceiling, bulks_ceiling = service_cpu_seconds(), bulk_counters(pipeline)
    ceiling = measure_ceiling(pipeline, docs, run)
    return Round(
        pipeline=throughput,
        ceiling=ceiling,
        cpu_pipeline=cpu_pipeline,
        cpu_ceiling=per_event_us(before_ceiling, service_cpu_seconds(), len(docs)),
        docs_per_bulk_pipeline=docs_per_bulk(bulks, after),
        docs_per_bulk_ceiling=docs_per_bulk(bulks_ceiling, bulk_counters(pipeline)),
        es_docs_per_event=(after[0] - bulks[0]) / len(events),
    )


def quantiles(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.5), 3),
        "p99": round(percentile(values, 0.99), 3),
        "n": len(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--warmup-events",
        type=int,
        default=50_000,
        help="events through the pipeline and the ceiling before the measured runs (not counted)",
    )
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--reloads", type=int, default=10)
    parser.add_argument("--latency-probes", type=int, default=20)
    args = parser.parse_args()

    lines = source_lines()
    pipeline = Pipeline(suffix=f"bench{uuid.uuid4().hex[:8]}", window_seconds=60)
    pipeline.start()
    try:
        rules = make_rules(args.rules, corpus_words(lines[:5000]), seed=7)
        for rule in rules:
            pipeline.api("POST", "/rules", json=rule).raise_for_status()
        time.sleep(5)  # let the job pick up the rule set before the clock starts
        if args.warmup_events > 0:
            # A fresh job runs interpreted bytecode and cold Python workers for its first seconds, and
            # so does a fresh Elasticsearch for the ceiling: warm both before anything is timed.
            run_round(pipeline, workload(lines, args.warmup_events, -1), -1)
        rounds: list[Round] = []
        for run in range(args.runs):
            rounds.append(run_round(pipeline, workload(lines, args.events, run), run))
            done, ceiling = rounds[-1].pipeline, rounds[-1].ceiling
            print(
                f"run {run}: pipeline {done.sustained:.0f}/s sustained, {done.whole_run:.0f}/s whole run; "
                f"ceiling {ceiling.sustained:.0f}/s sustained, {ceiling.whole_run:.0f}/s whole run",
                file=sys.stderr,
            )
        reloads = measure_hot_reload(pipeline, "bench-hot-reload", args.reloads)
        latency = measure_e2e_latency(pipeline, args.latency_probes)
        rest = FlinkRest(flink_rest_url())
        try:
            checkpoints = rest.checkpoint_durations_s(pipeline.job_id)
        finally:
            rest.close()
    finally:
        pipeline.stop()
    sustained = [r.pipeline.sustained for r in rounds]
    whole = [r.pipeline.whole_run for r in rounds]
    ceiling_sustained = [r.ceiling.sustained for r in rounds]
    ceiling_whole = [r.ceiling.whole_run for r in rounds]
    bulk_pipeline = [r.docs_per_bulk_pipeline for r in rounds]
    bulk_ceiling = [r.docs_per_bulk_ceiling for r in rounds]
    docs_per_event = [r.es_docs_per_event for r in rounds]
    print(
        json.dumps(
            {
                "events_per_run": args.events,
                "warmup_events": args.warmup_events,
                "active_rules": args.rules,
                "parallelism": 2,
                "pipeline_sustained_events_per_s": [round(v) for v in sustained],
                "pipeline_sustained_events_per_s_median": round(statistics.median(sustained)),
                "pipeline_whole_run_events_per_s": [round(v) for v in whole],
                "pipeline_whole_run_events_per_s_median": round(statistics.median(whole)),
                "ceiling_sustained_docs_per_s": [round(v) for v in ceiling_sustained],
                "ceiling_sustained_docs_per_s_median": round(statistics.median(ceiling_sustained)),
                "ceiling_whole_run_docs_per_s": [round(v) for v in ceiling_whole],
                "ceiling_whole_run_docs_per_s_median": round(statistics.median(ceiling_whole)),
                "sustained_over_ceiling_median": median_ratio(sustained, ceiling_sustained),
                "whole_run_over_ceiling_median": median_ratio(whole, ceiling_whole),
                "cpu_us_per_event_pipeline_median": median_by_key([r.cpu_pipeline for r in rounds]),
                "cpu_us_per_doc_ceiling_median": median_by_key([r.cpu_ceiling for r in rounds]),
                "docs_per_shard_bulk_pipeline_median": round(statistics.median(bulk_pipeline)),
                "docs_per_shard_bulk_ceiling_median": round(statistics.median(bulk_ceiling)),
                "es_docs_indexed_per_event_pipeline_median": round(statistics.median(docs_per_event), 3),
                "hot_reload_s": quantiles(reloads),
                "e2e_latency_s": quantiles(latency),
                "checkpoint_duration_s": {
                    "median": round(statistics.median(checkpoints), 3) if checkpoints else None,
                    "max": round(max(checkpoints), 3) if checkpoints else None,
                    "count": len(checkpoints),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
