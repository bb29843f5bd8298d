"""What the SQL batching window costs: the job's transport against DataStream and Arrow alternatives.

    LOGFLOW_HOME=/work/main/.logflow flock /tmp/logflow-stack.lock \\
        .venv/bin/python bench/bench_source_share.py --events 200000 --runs 3

Needs the local stack (Kafka, Flink with two free task slots). Minimal jobs that do no parsing,
only the transport from Kafka to a Python function that counts the records
(bench/source_share_job.py has the graphs):

- A: the job's SQL Kafka source and 100 ms ARRAY_AGG window per partition, key_by, Python per batch.
- B: the DataStream KafkaSource (value only: no partition or offset), Python per record in bundles.
- C: the job's SQL Kafka source, a vectorised (pandas) Python UDF: Arrow batches built in the JVM.
- D: the job's SQL Kafka source without the window, Python per record in bundles.

The input: one topic with 2 partitions holding ``--events`` lines of tests/data/loghub/Linux_2k.log
cycled (bench_peer's input), produced once. Each run submits one variant (jobs.control.submit,
the job's connector jar and interpreter) reading the topic from the beginning in a consumer group
of its own, polls the Python functions' counts and the CPU every 250 ms until every record is
counted, then cancels the job. Variants alternate (the order rotates each round), after a
discarded warm-up run of the first variant (``--warmup``). Per run: the
records/s and the CPU per record between 10% and 90% of the records (bench/measure.py's
``steady_window``), CPU from /proc over every TaskManager's process tree (JVM plus its Python
workers). Medians per variant, and the medians of the per-round ratios against A.

Prints a table and JSON; writes the JSON under bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_peer import (  # noqa: E402
    INPUT,
    Sample,
    delete_topic,
    input_lines,
    poll,
    produce_input,
    with_taskmanager_totals,
)
from measure import (  # noqa: E402
    median_ratio,
    per_event_us,
    publish_report,
    service_cpu_seconds,
    steady_window,
)

from common.settings import flink_rest_url  # noqa: E402
from jobs.control.config import JobConfig  # noqa: E402
from jobs.control.flink_rest import FlinkRest, JobSummary  # noqa: E402
from jobs.control.submit import run_flink_submit  # noqa: E402

JOB_PROGRAM = REPO / "bench" / "source_share_job.py"
VARIANTS = {
    "A": "SQL Kafka source + ARRAY_AGG window (today's job), key_by, Python per batch",
    "B": "DataStream KafkaSource (value only), Python per record",
    "C": "SQL Kafka source, vectorised Python UDF (Arrow batches, no keyed state)",
    "D": "SQL Kafka source without window, Python per record",
}
BASELINE = "A"
# CPU groups per record: the TaskManagers' whole trees, their Python workers, and the JVMs alone.
TASKMANAGERS, PYTHON, JVM = "taskmanagers", "taskmanagers.python", "taskmanagers.jvm"
ALIVE = frozenset({"CREATED", "INITIALIZING", "RUNNING"})


@dataclass(frozen=True)
class Settings:
    events: int
    runs: int
    variants: tuple[str, ...]
    parallelism: int
    bundle_size: int
    bundle_time_ms: int
    arrow_batch_size: int
    stall_s: float
    # Discarded runs of the baseline first: the first job after a quiet spell runs a cold JVM
    # (measured 2026-12-05: 34.6 and 37.2 us per record cold against 12.3-13.8 warm).
    warmup: int = 1


@dataclass(frozen=True)
class VariantRun:
    variant: str
    round: int
    records_per_s: float  # steady state: 10% -> 90% of the records counted in Python
    cpu_us_per_record: dict[str, float]  # over the same window
    cpu_us_per_record_whole_run: dict[str, float]  # submission (job start included) -> last record
    load_average_1m: float = 0.0  # at the start of the run
    other_jobs: tuple[str, ...] = ()  # running beside it: their CPU is in the TaskManagers' too


def parse_variants(text: str) -> tuple[str, ...]:
    """``"a,B"`` -> ``("A", "B")``: known letters only, each once, in the order given."""
    chosen: list[str] = []
    for item in text.split(","):
        letter = item.strip().upper()
        if letter not in VARIANTS:
            raise ValueError(f"unknown variant {item.strip()!r}: choose from {', '.join(VARIANTS)}")
        if letter not in chosen:
            chosen.append(letter)
    return tuple(chosen)


def round_order(variants: tuple[str, ...], round_index: int) -> tuple[str, ...]:
    """The variants rotated by the round: each runs first, second, ... as often as the others,
    so that none always follows the same neighbour or the producer's warm page cache."""
    shift = round_index % len(variants)
    return variants[shift:] + variants[:shift]


def read_progress(directory: Path) -> int:
    """The records counted so far: the sum of every Python function instance's progress file."""
    total = 0
    for path in directory.iterdir():
        if path.name.startswith("."):  # being written, renamed over the real one right after
            continue
        try:
            total += int(path.read_text() or 0)
        except (OSError, ValueError):
            continue  # replaced while read: the next poll sees it
    return total


def run_figures(
    variant: str, round_index: int, samples: list[Sample], total: int, before: dict[str, float]
) -> VariantRun:
    """Rate and CPU per record over the 10%-90% window, and the whole run's CPU per record."""
    low, high = (samples[i] for i in steady_window([(s.at, s.count) for s in samples], total))
    if high.at <= low.at or high.count <= low.count:
        raise RuntimeError(
            f"{variant}: went from under 10% to 90% of {total} records between two polls, too fast "
            "for a steady state; use more --events (each run should take 10 s or more)"
        )
    last = samples[-1]
    steady = high.count - low.count

    def per_record(end: dict[str, float], start: dict[str, float], records: int) -> dict[str, float]:
        def with_jvm(cpu: dict[str, float]) -> dict[str, float]:
            # The JVMs alone: the TaskManagers' trees less their Python workers.
            return {**cpu, JVM: cpu.get(TASKMANAGERS, 0.0) - cpu.get(PYTHON, 0.0)}

        return per_event_us(with_jvm(start), with_jvm(end), records, digits=2)

    return VariantRun(
        variant=variant,
        round=round_index,
        records_per_s=round(steady / (high.at - low.at), 1),
        cpu_us_per_record=per_record(high.cpu, low.cpu, steady),
        cpu_us_per_record_whole_run=per_record(last.cpu, before, last.count),
    )


def _cpu(group: str) -> Any:
    return lambda run: run.cpu_us_per_record.get(group, 0.0)


def summary(runs: list[VariantRun]) -> dict[str, Any]:
    """Medians per variant, and per variant the median of its per-round ratios against A."""
    measures = {
        "records_per_s": lambda run: run.records_per_s,
        "taskmanager_cpu_us_per_record": _cpu(TASKMANAGERS),
        "jvm_cpu_us_per_record": _cpu(JVM),
        "python_cpu_us_per_record": _cpu(PYTHON),
    }
    variants: dict[str, Any] = {}
    for variant in sorted({run.variant for run in runs}):
        mine = sorted((run for run in runs if run.variant == variant), key=lambda run: run.round)
        figures: dict[str, Any] = {"description": VARIANTS[variant]}
        for name, value in measures.items():
            figures[name] = [value(run) for run in mine]
            figures[f"{name}_median"] = round(statistics.median(figures[name]), 2)
        variants[variant] = figures
    by = {(run.variant, run.round): run for run in runs}
    ratios: dict[str, Any] = {}
    for variant in variants:
        rounds = sorted(r for v, r in by if v == variant and (BASELINE, r) in by)
        if variant == BASELINE or not rounds:
            continue
        ratios[variant] = {
            name: median_ratio(
                [value(by[(variant, r)]) for r in rounds], [value(by[(BASELINE, r)]) for r in rounds]
            )
            for name, value in measures.items()
        }
        ratios[variant]["rounds"] = len(rounds)
    return {"variants": variants, f"ratio_to_{BASELINE}": ratios}


def table(report: dict[str, Any]) -> str:
    ratios = report[f"ratio_to_{BASELINE}"]
    rows = [
        "| variant | records/s per run (median) | TaskManager CPU µs/record | JVM | Python workers "
        f"| records/s ÷ {BASELINE} | TaskManager CPU ÷ {BASELINE} |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for variant, v in report["variants"].items():
        rates = " / ".join(f"{rate:,.0f}" for rate in v["records_per_s"])
        unit = 1.0 if variant == BASELINE else "-"
        ratio = ratios.get(variant, {})
        rows.append(
            f"| {variant}: {v['description']} | {rates} ({v['records_per_s_median']:,.0f}) "
            f"| {v['taskmanager_cpu_us_per_record_median']} | {v['jvm_cpu_us_per_record_median']} "
            f"| {v['python_cpu_us_per_record_median']} | {ratio.get('records_per_s', unit)} "
            f"| {ratio.get('taskmanager_cpu_us_per_record', unit)} |"
        )
    return "\n".join(rows)


def job_program_args(
    settings: Settings, variant: str, name: str, topic: str, group: str, progress: Path
) -> list[str]:
    return [
        "--variant",
        variant,
        "--name",
        name,
        "--topic",
        topic,
        "--group",
        group,
        "--progress-dir",
        str(progress),
        "--parallelism",
        str(settings.parallelism),
        "--bundle-size",
        str(settings.bundle_size),
        "--bundle-time-ms",
        str(settings.bundle_time_ms),
        "--arrow-batch-size",
        str(settings.arrow_batch_size),
    ]


def job_failure(rest: FlinkRest, job_id: str) -> str:
    """The root exception Flink recorded for the job, for a run that ended early."""
    import httpx

    try:
        body = httpx.get(f"{rest.base_url}/jobs/{job_id}/exceptions", timeout=10).json()
    except (httpx.HTTPError, ValueError) as exc:
        return f"(no exception history: {exc})"
    history = body.get("exceptionHistory", {}).get("entries", [])
    trace = history[0].get("stacktrace", "") if history else body.get("root-exception", "")
    return str(trace)[:3000]


def wait_listed(rest: FlinkRest, name: str, timeout_s: float = 60) -> JobSummary:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = next((j for j in rest.jobs() if j.name == name), None)
        if job is not None:
            return job
        time.sleep(0.5)
    raise RuntimeError(f"job {name} is not listed by Flink {timeout_s:.0f} s after `flink run` returned")


def cancel_by_name(rest: FlinkRest, name: str) -> None:
    job = rest.active_job(name)
    if job is not None:
        rest.cancel(job.job_id)
        rest.wait_terminal(job.job_id, 120)


def check_slots(rest: FlinkRest, needed: int) -> None:
    available, total = rest.slots()
    if available < needed:
        raise RuntimeError(
            f"{available} of {total} task slots free, {needed} needed; running: {running_jobs(rest)}"
        )


def running_jobs(rest: FlinkRest, but: str = "") -> tuple[str, ...]:
    return tuple(job.name for job in rest.jobs() if job.state == "RUNNING" and job.name != but)


def run_variant(
    settings: Settings, rest: FlinkRest, variant: str, round_index: int, tag: str, topic: str
) -> VariantRun:
    name = f"logflow-bench-share-{tag}-{variant}{round_index}"
    check_slots(rest, settings.parallelism)
    progress = Path(tempfile.mkdtemp(prefix=f"logflow-share-{variant}{round_index}-"))
    load = os.getloadavg()[0]
    before = with_taskmanager_totals(service_cpu_seconds())
    try:
        run_flink_submit(
            timeout_s=300,
            script=JOB_PROGRAM,
            program_args=job_program_args(settings, variant, name, topic, f"{name}-group", progress),
        )
        job = wait_listed(rest, name)

        def alive() -> bool:
            return str(rest.job_details(job.job_id).get("state")) in ALIVE

        try:
            samples = poll(lambda: read_progress(progress), settings.events, dict, alive, settings.stall_s)
        except RuntimeError as exc:
            raise RuntimeError(
                f"{variant} round {round_index}: {exc}\n{job_failure(rest, job.job_id)}"
            ) from exc
        others = running_jobs(rest, but=name)
        run = run_figures(variant, round_index, samples, settings.events, before)
        return VariantRun(**{**asdict(run), "load_average_1m": round(load, 2), "other_jobs": others})
    finally:
        cancel_by_name(rest, name)
        shutil.rmtree(progress, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> Settings:
    defaults = JobConfig()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000, help="records in the input topic")
    parser.add_argument("--runs", type=int, default=3, help="rounds; each runs every variant once")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="which, comma-separated (A,B,C,D)")
    parser.add_argument("--parallelism", type=int, default=defaults.parallelism)
    parser.add_argument(
        "--bundle-size", type=int, default=defaults.bundle_size, help="python.fn-execution.bundle.size"
    )
    parser.add_argument(
        "--bundle-time-ms",
        type=int,
        default=defaults.bundle_time_ms,
        help="python.fn-execution.bundle.time (ms)",
    )
    parser.add_argument(
        "--arrow-batch-size", type=int, default=1000, help="python.fn-execution.arrow.batch.size (C)"
    )
    parser.add_argument(
        "--stall-seconds", type=float, default=180, help="fail a run without progress this long"
    )
    parser.add_argument(
        "--warmup", type=int, default=1, help="discarded runs of the first variant before the rounds"
    )
    args = parser.parse_args(argv)
    try:
        variants = parse_variants(args.variants)
    except ValueError as exc:
        parser.error(str(exc))
    if args.events < 1 or args.runs < 1:
        parser.error("--events and --runs must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    return Settings(
        events=args.events,
        runs=args.runs,
        variants=variants,
        parallelism=args.parallelism,
        bundle_size=args.bundle_size,
        bundle_time_ms=args.bundle_time_ms,
        arrow_batch_size=args.arrow_batch_size,
        stall_s=args.stall_seconds,
        warmup=args.warmup,
    )


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds through every finally: no job left running


def measure(settings: Settings, tag: str, topic: str) -> list[VariantRun]:
    runs: list[VariantRun] = []
    rest = FlinkRest(flink_rest_url())
    try:
        for warmup_index in range(settings.warmup):
            warm = run_variant(settings, rest, settings.variants[0], -1 - warmup_index, tag, topic)
            print(
                f"warm-up {settings.variants[0]} (not counted): "
                f"{warm.cpu_us_per_record.get(TASKMANAGERS)} µs/record",
                file=sys.stderr,
                flush=True,
            )
        for round_index in range(settings.runs):
            for variant in round_order(settings.variants, round_index):
                run = run_variant(settings, rest, variant, round_index, tag, topic)
                runs.append(run)
                cpu = run.cpu_us_per_record
                print(
                    f"round {round_index} {variant}: {run.records_per_s:,.0f} records/s, TaskManagers "
                    f"{cpu.get(TASKMANAGERS)} µs/record (JVM {cpu.get(JVM)}, Python {cpu.get(PYTHON)}), "
                    f"load {run.load_average_1m}"
                    + (f", also running: {run.other_jobs}" if run.other_jobs else ""),
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        rest.close()
    return runs


def main() -> int:
    settings = parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    tag = uuid.uuid4().hex[:8]
    topic = f"bench-share-{tag}"
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    try:
        print(f"producing {settings.events} lines to {topic} (2 partitions)", file=sys.stderr, flush=True)
        produce_input(topic, input_lines(settings.events, (started - timedelta(days=1)).date()))
        runs = measure(settings, tag, topic)
    finally:
        try:
            delete_topic(topic)
        except Exception as exc:  # the report still comes; say what was left
            print(f"could not delete topic {topic}: {exc}", file=sys.stderr)
    report = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "input": f"{INPUT.relative_to(REPO)}, cycled; topic of 2 partitions",
        "settings": {
            **asdict(settings),
            "checkpoint_interval_ms": JobConfig.checkpoint_interval_ms,
            "batch_ms": JobConfig.batch_ms,
        },
        **summary(runs),
        "runs": [asdict(run) for run in runs],
    }
    publish_report(report, f"source-share-{started:%Y%m%dT%H%M%S}", table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
