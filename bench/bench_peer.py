"""Peer benchmark: logflow against rsyslog (imkafka -> mmnormalize -> omelasticsearch) on this box.

    .venv/bin/python bench/bench_peer.py --events 200000 --pairs 3

Needs the local stack (`logflow stack up`: Kafka, Elasticsearch, Redis, Flink with two free task
slots) and Debian's rsyslog packages, which it installs with apt-get when missing (as root).

- The input: one Kafka topic with 2 partitions holding ``--events`` lines of tests/data/loghub/
  Linux_2k.log (2,000 real syslog lines of one Linux host: 677 sshd(pam_unix), ftpd, su, kernel,
  ...), cycled in file order, each stamp rewritten to yesterday (UTC) with its time of day kept, so
  both sides date them in the same year. Produced once; every run reads it from the beginning.
- rsyslog: a private rsyslogd (bench/peer/rsyslog.conf.in, bench/peer/syslog.rulebase) in its own
  consumer group; liblognorm extracts the BSD syslog fields, and omelasticsearch bulk-indexes an
  ECS-like document (@timestamp, host.name, process.name, process.pid, message, event.dataset,
  event.original, event.ingested) into a daily index ``<prefix>-syslog-yyyy.MM.dd`` with
  Elasticsearch-generated ids; two queue workers, bulks of 1,000 documents gathered for up to
  100 ms (logflow's parallelism, bulk size and batch interval). logflow's index template
  (jobs/sinks/index_template.py) is installed for its prefix.
- logflow: the job as `logflow job submit` runs it in the demo (its default settings, no rules) in
  its own consumer group, through the e2e harness's private pipeline (own rules API, topics for
  rules/alerts/dead letters, index prefix).
- Pairs: rsyslog and logflow alternate (the first of each pair alternates too), each into fresh
  indices that are deleted by name after the run. Per run, the searchable count is polled every
  250 ms (no forced refresh) until every line is indexed; docs/s is the steady-state slope between
  10% and 90% of the lines, and CPU per document over that same window, from /proc: rsyslogd's
  process, the TaskManager's process tree (JVM plus its Python workers) and Elasticsearch's (by
  the stack's pid files). Medians over the pairs, and the per-pair ratios logflow/rsyslog.

Prints a table and JSON; writes the JSON under bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "bench"))

from bench_rules import corpus_words, make_rules  # noqa: E402
from e2e_harness import Pipeline  # noqa: E402
from measure import (  # noqa: E402
    docs_per_bulk,
    node_bulk_counters,
    per_event_us,
    publish_report,
    searchable_count,
    service_cpu_seconds,
    steady_window,
)
from peer_rsyslog import Rsyslogd, RsyslogSettings, ensure_installed  # noqa: E402

from common.schema.alert import records_indices  # noqa: E402
from common.settings import ElasticsearchSettings, KafkaSettings  # noqa: E402
from jobs.sinks.elasticsearch.template import install_index_template  # noqa: E402

INPUT = REPO / "tests" / "data" / "loghub" / "Linux_2k.log"
# The harness shortens windows and checkpoints for tests; "" gives the job's own default, as in the demo.
DEMO_JOB_ENV = {
    "LOGFLOW_WINDOW_SECONDS": "",
    "LOGFLOW_OUT_OF_ORDERNESS_SECONDS": "",
    "LOGFLOW_IDLE_CLOSE_SECONDS": "",
    "LOGFLOW_CHECKPOINT_INTERVAL_MS": "",
}
# CPU groups reported per document: what each side spends, and what Elasticsearch spends for it.
PROCESSING = {"rsyslog": "rsyslogd", "logflow": "taskmanagers"}
# Every TaskManager of the stack: ``flink-taskmanager-N`` (or ``flink-taskmanager`` on a stack
# started before there could be several), each with its Python workers as ``.children``.
_TASKMANAGER = re.compile(r"^flink-taskmanager(-\d+)?$")
_BSD_STAMP = re.compile(rb"^[A-Z][a-z]{2} [ \d]\d (\d\d:\d\d:\d\d) ")


def restamp(line: bytes, day: date) -> bytes:
    """The line with its BSD syslog date replaced by ``day`` (time of day kept)."""
    match = _BSD_STAMP.match(line)
    if match is None:
        return line
    stamp = f"{day:%b} {day.day:2d} ".encode() + match.group(1) + b" "
    return stamp + line[match.end() :]


def input_lines(count: int, day: date, source: Path = INPUT) -> list[bytes]:
    lines = [line.rstrip(b"\r") for line in source.read_bytes().split(b"\n")]
    lines = [restamp(line, day) for line in lines if line.strip()]
    return [lines[i % len(lines)] for i in range(count)]


@dataclass(frozen=True)
class Run:
    side: str
    pair: int
    docs_per_s: float  # steady state: 10% -> 90% of the documents searchable
    first_to_last_docs_per_s: float  # first document searchable -> last
    cpu_us_per_doc: dict[str, float]  # over the steady-state window
    cpu_us_per_doc_whole_run: dict[str, float]  # start of the run (incl. start-up) -> last document
    # Documents per shard-level bulk in Elasticsearch during the run (each costs a translog fsync).
    docs_per_shard_bulk: float = 0.0


@dataclass(frozen=True)
class Sample:
    at: float
    count: int
    cpu: dict[str, float]


def with_taskmanager_totals(cpu: dict[str, float]) -> dict[str, float]:
    """``cpu`` plus the sums over every TaskManager: "taskmanagers" (JVMs and their Python
    workers) and "taskmanagers.python" (the workers alone)."""
    names = [name for name in cpu if _TASKMANAGER.match(name)]
    return {
        **cpu,
        "taskmanagers": sum(cpu[name] for name in names),
        "taskmanagers.python": sum(cpu.get(f"{name}.children", 0.0) for name in names),
    }


def run_figures(side: str, pair: int, samples: list[Sample], total: int, before: dict[str, float]) -> Run:
    """Rates and CPU per document from the polled samples (pure: what the unit tests check)."""
    low, high = (samples[i] for i in steady_window([(s.at, s.count) for s in samples], total))
    if high.at <= low.at or high.count <= low.count:
        # The count moves once per refresh (1 s): a run of a second or two has no slope to measure.
        raise RuntimeError(
            f"{side}: went from under 10% to 90% of {total} documents between two polls, too fast "
            "for a steady state; use more --events (each side should take 10 s or more)"
        )
    first = next(s for s in samples if s.count > 0)
    last = samples[-1]
    steady = high.count - low.count
    return Run(
        side=side,
        pair=pair,
        docs_per_s=steady / (high.at - low.at),
        first_to_last_docs_per_s=(last.count - first.count) / max(last.at - first.at, 1e-9),
        cpu_us_per_doc=per_event_us(low.cpu, high.cpu, steady, digits=1),
        cpu_us_per_doc_whole_run=per_event_us(before, last.cpu, last.count, digits=1),
    )


NEARLY_ALL = 0.999


def poll(
    count: Callable[[], int],
    total: int,
    pids: Callable[[], dict[str, int]],
    alive: Callable[[], bool],
    stall_s: float,
) -> list[Sample]:
    """Sample the searchable count and CPU every 250 ms until ``total`` documents are searchable."""
    from elasticsearch import ApiError

    samples: list[Sample] = []
    progressed = time.monotonic()
    while True:
        try:
            searchable = count()
        except ApiError as exc:
            if exc.meta.status != 503:  # a shard of a just-created index not yet started: poll again
                raise
            searchable = samples[-1].count if samples else 0
        cpu = with_taskmanager_totals(service_cpu_seconds(pids()))
        samples.append(Sample(time.perf_counter(), searchable, cpu))
        if searchable >= total:
            return samples
        if len(samples) > 1 and searchable > samples[-2].count:
            progressed = time.monotonic()
        if not alive():
            raise RuntimeError(f"the consumer stopped at {searchable} of {total} documents")
        if time.monotonic() - progressed > stall_s:
            if searchable >= total * NEARLY_ALL:
                # The steady-state window (10%-90%) is complete; a consumer that strands a handful of
                # lines at the very end (rsyslog did, 6 of 200,000, with nothing in its error file) is
                # reported rather than failing the whole invocation.
                print(
                    f"warning: stalled at {searchable} of {total} documents; measuring what arrived",
                    file=sys.stderr,
                )
                return samples
            raise RuntimeError(f"no progress for {stall_s:.0f} s at {searchable} of {total} documents")
        time.sleep(0.25)


def es_client() -> Any:
    from elasticsearch import Elasticsearch

    return Elasticsearch(**ElasticsearchSettings.from_env().client_kwargs(), request_timeout=60)


def es_major(es: Any) -> int:
    nodes = es.nodes.info(node_id="_all", metric="_none", filter_path="nodes.*.version")["nodes"]
    return min(int(node["version"].split(".")[0]) for node in nodes.values())


def delete_indices(es: Any, prefix: str) -> list[str]:
    """Delete the run's indices by their names (a wildcard delete may be refused by the cluster)."""
    names = sorted(es.options(ignore_status=404).indices.get(index=f"{prefix}-*", expand_wildcards="all"))
    names = [name for name in names if name.startswith(f"{prefix}-")]
    if names:
        es.indices.delete(index=",".join(names))
    return names


def produce_input(topic: str, lines: list[bytes]) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    config: dict[str, Any] = dict(KafkaSettings.from_env().client_config())
    admin = AdminClient(config)  # kept referenced: a collected client fails its pending futures
    for future in admin.create_topics([NewTopic(topic, 2, 1)]).values():
        future.result(30)
    producer = Producer({**config, "enable.idempotence": True, "acks": "all", "linger.ms": 20})
    failures: list[Any] = []

    def delivered(err: Any, _message: Any) -> None:
        if err is not None:
            failures.append(err)

    for line in lines:
        while True:
            try:
                producer.produce(topic, value=line, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
    if producer.flush(120) != 0 or failures:
        raise RuntimeError(f"producing the input failed: {failures[:1] or 'not every line delivered'}")


def delete_topic(topic: str) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(dict(KafkaSettings.from_env().client_config()))
    for future in admin.delete_topics([topic]).values():
        future.result(30)


def run_rsyslog(es: Any, topic: str, total: int, pair: int, tag: str, work_root: Path, stall_s: float) -> Run:
    prefix = f"peer-{tag}-rsyslog-{pair}"
    kafka = KafkaSettings.from_env()
    es_settings = ElasticsearchSettings.from_env()
    if es_settings.api_key:
        raise SystemExit("omelasticsearch has no API-key authentication: set LOGFLOW_ES_USERNAME/PASSWORD")
    rsyslogd = Rsyslogd(
        RsyslogSettings(
            topic=topic,
            brokers=kafka.bootstrap_servers,
            consumer_group=f"peer-{tag}-rsyslog-{pair}",
            index_prefix=prefix,
            es_url=es_settings.url.split(",")[0].strip(),
            es_major=es_major(es),
            work_dir=work_root / f"rsyslog-{pair}",
            es_username=es_settings.username,
            es_password=es_settings.password,
        )
    )
    install_index_template(es, prefix)
    try:
        rsyslogd.prepare()
        before, bulks = with_taskmanager_totals(service_cpu_seconds()), node_bulk_counters(es)
        pid = rsyslogd.start()
        try:
            samples = poll(
                lambda: searchable_count(es, f"{prefix}-*"),
                total,
                lambda: {PROCESSING["rsyslog"]: pid},
                rsyslogd.alive,
                stall_s,
            )
        except RuntimeError as exc:
            raise RuntimeError(f"rsyslog: {exc}\n{rsyslogd.errors()}") from exc
        run = run_figures("rsyslog", pair, samples, total, before)
        return replace(run, docs_per_shard_bulk=round(docs_per_bulk(bulks, node_bulk_counters(es)), 1))
    finally:
        rsyslogd.stop()
        delete_indices(es, prefix)
        es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-logflow")


def run_logflow(
    es: Any,
    topic: str,
    total: int,
    pair: int,
    tag: str,
    stall_s: float,
    job_env: dict[str, str],
    rules: list[dict[str, Any]],
) -> Run:
    pipeline = Pipeline(
        suffix=f"peer{tag}l{pair}",
        window_seconds=60,
        input_topic=topic,
        job_env={**DEMO_JOB_ENV, **job_env},
        initial_rules=rules,
    )
    before, bulks = with_taskmanager_totals(service_cpu_seconds()), node_bulk_counters(es)
    try:
        pipeline.start()  # returns with the job running; it reads the topic from the beginning at once
        samples = poll(
            # Records only: the benchmark rules' alerts are indexed beside them.
            lambda: searchable_count(es, records_indices(pipeline.index_prefix)),
            total,
            dict,
            lambda: pipeline.job_state() in ("RUNNING", "CREATED", "INITIALIZING"),
            stall_s,
        )
        run = run_figures("logflow", pair, samples, total, before)
        return replace(run, docs_per_shard_bulk=round(docs_per_bulk(bulks, node_bulk_counters(es)), 1))
    finally:
        pipeline.stop()
        delete_indices(es, pipeline.index_prefix)


def _cpu_of(group: str) -> Callable[[Run], float]:
    return lambda run: run.cpu_us_per_doc.get(group, 0.0)


def median_of(runs: list[Run], value: Callable[[Run], float]) -> float:
    return round(statistics.median(value(run) for run in runs), 1)


def summary(runs: list[Run]) -> dict[str, Any]:
    """Medians per side, and the medians of the per-pair ratios logflow/rsyslog."""
    sides: dict[str, Any] = {}
    for side, processing in PROCESSING.items():
        mine = [run for run in runs if run.side == side]
        if not mine:
            continue
        sides[side] = {
            "docs_per_s": [round(run.docs_per_s) for run in mine],
            "docs_per_s_median": round(statistics.median(run.docs_per_s for run in mine)),
            "processing_cpu_us_per_doc_median": median_of(mine, _cpu_of(processing)),
            "elasticsearch_cpu_us_per_doc_median": median_of(
                mine, lambda r: r.cpu_us_per_doc.get("elasticsearch", 0.0)
            ),
            "docs_per_shard_bulk_median": median_of(mine, lambda r: r.docs_per_shard_bulk),
        }
        if side == "logflow":
            sides[side]["python_workers_cpu_us_per_doc_median"] = median_of(
                mine, lambda r: r.cpu_us_per_doc.get("taskmanagers.python", 0.0)
            )
    pairs = sorted({run.pair for run in runs})
    by = {(run.side, run.pair): run for run in runs}
    complete = [p for p in pairs if ("rsyslog", p) in by and ("logflow", p) in by]

    def ratio(value: Callable[[Run, str], float]) -> float | None:
        if not complete:
            return None
        return round(
            statistics.median(
                value(by[("logflow", p)], "logflow") / value(by[("rsyslog", p)], "rsyslog") for p in complete
            ),
            3,
        )

    return {
        **sides,
        "pairs": len(complete),
        "logflow_over_rsyslog": {
            "docs_per_s": ratio(lambda r, _s: r.docs_per_s),
            "processing_cpu_per_doc": ratio(lambda r, s: r.cpu_us_per_doc.get(PROCESSING[s], 0.0)),
            "elasticsearch_cpu_per_doc": ratio(lambda r, _s: r.cpu_us_per_doc.get("elasticsearch", 0.0)),
        },
    }


def table(report: dict[str, Any]) -> str:
    rows = [
        "| | docs/s (steady state) | processing CPU per doc | Elasticsearch CPU per doc |",
        "| --- | --- | --- | --- |",
    ]
    for side in PROCESSING:
        if side not in report:
            continue
        s = report[side]
        rows.append(
            f"| {side} | {' / '.join(str(v) for v in s['docs_per_s'])} (median {s['docs_per_s_median']}) "
            f"| {s['processing_cpu_us_per_doc_median']} µs | {s['elasticsearch_cpu_us_per_doc_median']} µs |"
        )
    ratios = report["logflow_over_rsyslog"]
    rows.append(
        f"| logflow / rsyslog | {ratios['docs_per_s']} | {ratios['processing_cpu_per_doc']} "
        f"| {ratios['elasticsearch_cpu_per_doc']} |"
    )
    return "\n".join(rows)


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds through every finally: nothing left running


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000, help="lines in the input topic")
    parser.add_argument("--pairs", type=int, default=3, help="alternating rsyslog/logflow pairs")
    parser.add_argument(
        "--stall-seconds", type=float, default=180, help="fail a run without progress this long"
    )
    parser.add_argument(
        "--logflow-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a LOGFLOW_* setting for the logflow side's job (repeatable), e.g. LOGFLOW_JOB_FLINK_CONF=...",
    )
    parser.add_argument(
        "--rules",
        type=int,
        default=0,
        help="the logflow side runs with this many benchmark rules (bench_rules.make_rules; none drops)",
    )
    args = parser.parse_args()
    job_env = dict(item.split("=", 1) for item in args.logflow_env)
    signal.signal(signal.SIGTERM, _terminate)
    ensure_installed()

    tag = uuid.uuid4().hex[:8]
    topic = f"peer-input-{tag}"
    day = (datetime.now(UTC) - timedelta(days=1)).date()
    es = es_client()
    runs: list[Run] = []
    started = datetime.now(UTC)
    try:
        with tempfile.TemporaryDirectory(prefix="logflow-peer-") as work:
            print(f"producing {args.events} lines to {topic} (2 partitions)", file=sys.stderr, flush=True)
            lines = input_lines(args.events, day)
            produce_input(topic, lines)
            rules = make_rules(args.rules, corpus_words(lines[:5000]), seed=7) if args.rules else []
            for pair in range(args.pairs):
                order = ("rsyslog", "logflow") if pair % 2 == 0 else ("logflow", "rsyslog")
                for side in order:
                    if side == "rsyslog":
                        run = run_rsyslog(es, topic, args.events, pair, tag, Path(work), args.stall_seconds)
                    else:
                        run = run_logflow(
                            es, topic, args.events, pair, tag, args.stall_seconds, job_env, rules
                        )
                    runs.append(run)
                    cpu = run.cpu_us_per_doc
                    print(
                        f"pair {pair} {side}: {run.docs_per_s:.0f} docs/s steady, "
                        f"{cpu.get(PROCESSING[side], 0.0)} µs/doc processing, "
                        f"{cpu.get('elasticsearch', 0.0)} µs/doc Elasticsearch, "
                        f"{run.docs_per_shard_bulk} docs per shard-level bulk",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        try:
            delete_topic(topic)
        except Exception as exc:  # the report still comes; say what was left
            print(f"could not delete topic {topic}: {exc}", file=sys.stderr)
        es.close()
    report = {
        "started": started.isoformat(timespec="seconds"),
        "events": args.events,
        "input": f"{INPUT.relative_to(REPO)}, cycled, stamps rewritten to {day.isoformat()}",
        "topic_partitions": 2,
        "logflow_rules": args.rules,
        **summary(runs),
        "runs": [asdict(run) for run in runs],
    }
    publish_report(report, f"peer-{started:%Y%m%dT%H%M%S}", table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
