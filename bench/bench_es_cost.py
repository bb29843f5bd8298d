"""Elasticsearch's CPU per document for logflow's documents, against variants (issue 16).

    .venv/bin/python bench/bench_es_cost.py --docs 100000 --rounds 3

Needs the local stack's Elasticsearch. Builds, off-Flink, exactly the documents the job writes for
the peer benchmark's input (tests/data/loghub/Linux_2k.log through ``jobs.operators.batch.
process_batch`` with no rules), then bulk-indexes them into fresh indices under logflow's index
template, one variant at a time, alternating the order each round:

- ``logflow``: the job's documents with its deterministic ids (``topic:partition:offset``);
- ``logflow-auto-id``: the same documents, ids left to Elasticsearch (its append-only path skips
  the per-document id lookup; exactly-once replays need deterministic ids, so this is a reference);
- ``logflow-indexed-ids``: the job's documents and ids under the mapping before issue 16, where
  ``event.id`` (a copy of ``_id``) was an indexed keyword and the Kafka offset had a points index
  (today: ``_source`` only, and doc values only);
- ``logflow-refresh-5s``: the job's documents and ids, indices refreshed every 5 s instead of 1 s;
- ``rsyslog-fields``: only the fields the rsyslog peer writes for the same lines (``@timestamp``,
  ``host.name``, ``process.name``, ``process.pid``, ``message``, ``event.dataset``,
  ``event.original``, ``event.ingested``), with logflow's ids;
- ``rsyslog-fields-auto-id``: the same with Elasticsearch's ids: what the peer sends.

Two client threads send bulks of 1,000 documents (the job's parallelism and bulk size). Per variant:
Elasticsearch's CPU (its process tree, from /proc) per document between the first bulk and the last
document searchable, and the wall time. Medians over the rounds, and ratios against ``logflow``.
Prints JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from measure import searchable_count, service_cpu_seconds  # noqa: E402

from common.settings import ElasticsearchSettings  # noqa: E402
from jobs.sinks.elasticsearch.template import index_template  # noqa: E402

INPUT = REPO / "tests" / "data" / "loghub" / "Linux_2k.log"
RSYSLOG_FIELDS = ("@timestamp", "host", "process", "message", "event")
BULK_DOCS = 1000
THREADS = 2

Document = tuple[str, str, dict[str, Any]]  # id, dataset, source


def job_documents(count: int) -> list[Document]:
    """The job's documents for ``count`` lines of the input, cycled, on a 2-partition topic."""
    from common.parsing import ParseOptions, parse_messages
    from common.rules import RuleEngine
    from jobs.operators.batch import BatchContext, process_batch

    lines = [line.rstrip(b"\r\n") for line in INPUT.read_bytes().splitlines() if line.strip()]
    options = ParseOptions.from_env()
    engine = RuleEngine(count_thresholds=False)
    context = BatchContext(
        parse=lambda raw: parse_messages(raw, options), engine=engine, index_prefix="x", window_seconds=60
    )
    now_ms = int(time.time() * 1000)
    records = [(lines[i % len(lines)], "peer", i % 2, i // 2, now_ms) for i in range(count)]
    documents: list[Document] = []
    for start in range(0, count, BULK_DOCS):
        for _, doc_id, index, body, _ in process_batch(records[start : start + BULK_DOCS], 0, context).writes:
            documents.append((doc_id, index.split("-")[1], json.loads(body)))
    engine.close()
    return documents


def rsyslog_shaped(source: dict[str, Any]) -> dict[str, Any]:
    kept = {key: source[key] for key in RSYSLOG_FIELDS if key in source}
    event = kept.get("event", {})
    kept["event"] = {k: event[k] for k in ("dataset", "original", "ingested") if k in event}
    if "host" in kept:
        kept["host"] = {"name": kept["host"].get("name")}
    if "process" in kept:
        kept["process"] = {k: kept["process"][k] for k in ("name", "pid") if k in kept["process"]}
    return kept


def indexed_ids(template: dict[str, Any]) -> None:
    """The mapping before issue 16: ``event.id`` an indexed keyword with doc values (a copy of
    ``_id``), and the Kafka offset with a points index."""
    properties = template["template"]["mappings"]["properties"]
    properties["event"]["properties"]["id"] = {"type": "keyword"}
    properties["logflow"]["properties"]["kafka"]["properties"]["offset"] = {"type": "long"}


def refresh_5s(template: dict[str, Any]) -> None:
    template["template"]["settings"]["index"]["refresh_interval"] = "5s"


def unchanged(source: dict[str, Any]) -> dict[str, Any]:
    return source


# name: (document shape, deterministic ids, change to the index template)
VARIANTS: dict[
    str, tuple[Callable[[dict[str, Any]], dict[str, Any]], bool, Callable[[dict[str, Any]], None] | None]
] = {
    "logflow": (unchanged, True, None),
    "logflow-auto-id": (unchanged, False, None),
    "logflow-indexed-ids": (unchanged, True, indexed_ids),
    "logflow-refresh-5s": (unchanged, True, refresh_5s),
    "rsyslog-fields": (rsyslog_shaped, True, None),
    "rsyslog-fields-auto-id": (rsyslog_shaped, False, None),
}


def bulk_bodies(documents: list[Document], prefix: str, variant: str) -> list[str]:
    import orjson

    shape, with_ids, _ = VARIANTS[variant]
    bodies = []
    for start in range(0, len(documents), BULK_DOCS):
        lines: list[bytes] = []
        for doc_id, dataset, source in documents[start : start + BULK_DOCS]:
            action: dict[str, Any] = {"_index": f"{prefix}-{dataset}-d"}
            if with_ids:
                action["_id"] = doc_id
            lines.append(orjson.dumps({"index": action}))
            lines.append(orjson.dumps(shape(source)))
        bodies.append((b"\n".join(lines) + b"\n").decode())
    return bodies


def index_variant(es: Any, bodies: list[str], prefix: str, total: int, variant: str) -> dict[str, float]:
    template = copy.deepcopy(index_template(prefix))  # its mappings are the shared ECS_PROPERTIES
    change = VARIANTS[variant][2]
    if change is not None:
        change(template)
    es.indices.put_index_template(name=f"{prefix}-logflow", **template)
    queue = list(reversed(bodies))
    lock = threading.Lock()
    errors: list[str] = []

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            response = es.bulk(operations=body, filter_path=["errors", "items.*.error"])
            if response.get("errors"):
                errors.append(json.dumps(response.body)[:500])

    before = service_cpu_seconds()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while searchable_count(es, f"{prefix}-*") < total:
        if errors:
            raise RuntimeError(f"{prefix}: bulk errors: {errors[0]}")
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    after = service_cpu_seconds()
    es.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
    es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-logflow")
    return {
        "es_cpu_us_per_doc": (after["elasticsearch"] - before["elasticsearch"]) / total * 1e6,
        "docs_per_s": total / elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from elasticsearch import Elasticsearch

    es = Elasticsearch(**ElasticsearchSettings.from_env().client_kwargs(), request_timeout=120)
    documents = job_documents(args.docs)
    tag = uuid.uuid4().hex[:8]
    names = list(VARIANTS)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for round_number in range(args.rounds):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            prefix = f"escost-{tag}-{round_number}-{name}"
            bodies = bulk_bodies(documents, prefix, name)
            runs[name].append(index_variant(es, bodies, prefix, len(documents), name))
            print(f"round {round_number} {name}: {runs[name][-1]}", file=sys.stderr)
    medians = {
        name: {key: round(statistics.median(r[key] for r in values), 1) for key in values[0]}
        for name, values in runs.items()
    }
    base = medians["logflow"]["es_cpu_us_per_doc"]
    report = {
        "docs": len(documents),
        "rounds": args.rounds,
        "medians": medians,
        "es_cpu_ratio_to_logflow": {
            name: round(values["es_cpu_us_per_doc"] / base, 3) for name, values in medians.items()
        },
        "runs": runs,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
