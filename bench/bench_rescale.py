"""Throughput at parallelism 2 against 4 on the same two TaskManagers, and what each rescale costs.

One private pipeline (the e2e harness: own topics, indices, Redis keys and job), rescaled with
`logflow job rescale` between measurements in alternating order (2, 4, then 4, 2, ...), so both
parallelisms see the same machine load. Each measurement produces ``--events`` lines as fast as
the producer can and polls Elasticsearch until all are searchable (as bench_pipeline does):
``sustained`` is the rate between 10% and 90% of them, ``whole_run`` from the first produce to
the last searchable. Each rescale's report gives the seconds no event was processed.

    .venv/bin/python bench/bench_rescale.py --events 30000 --rounds 2

Needs the local stack with two TaskManagers (LOGFLOW_TASKMANAGERS=2) and 4 free slots. Prints
JSON and writes it to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "bench"))

from bench_pipeline import measure_throughput, source_lines, workload  # noqa: E402
from e2e_harness import LOGFLOW, Pipeline  # noqa: E402

from common.settings import flink_rest_url  # noqa: E402
from jobs.control.flink_rest import FlinkRest  # noqa: E402


def rescale(pipeline: Pipeline, parallelism: int) -> dict[str, Any]:
    result = subprocess.run(
        [LOGFLOW, "job", "rescale", "--parallelism", str(parallelism), "--json"],
        env=pipeline.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"rescale to {parallelism} failed:\n{result.stdout}\n{result.stderr}")
    report: dict[str, Any] = json.loads(result.stdout)
    pipeline.job_id = report["new_job_id"]
    return report


def taskmanagers_of_job(job_id: str) -> int:
    rest = FlinkRest(flink_rest_url())
    try:
        return len(rest.taskmanagers_of(job_id))
    finally:
        rest.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of measurements (p2 and p4)")
    args = parser.parse_args()

    rest = FlinkRest(flink_rest_url())
    try:
        if rest.taskmanager_count() < 2:
            raise SystemExit("needs two TaskManagers: LOGFLOW_TASKMANAGERS=2 logflow stack up")
    finally:
        rest.close()

    lines = source_lines()
    pipeline = Pipeline(suffix=f"rescale{uuid.uuid4().hex[:8]}", window_seconds=60)
    measurements: list[dict[str, Any]] = []
    rescales: list[dict[str, Any]] = []
    current = 2
    try:
        pipeline.start()
        run = 0
        for round_index in range(args.rounds):
            order = (2, 4) if round_index % 2 == 0 else (4, 2)
            for parallelism in order:
                if parallelism != current:
                    report = rescale(pipeline, parallelism)
                    rescales.append(report)
                    current = parallelism
                    print(
                        f"rescaled to {parallelism}: unavailable {report['unavailable_s']} s",
                        file=sys.stderr,
                    )
                run += 1
                throughput = measure_throughput(pipeline, workload(lines, args.events, run))
                spread = taskmanagers_of_job(pipeline.job_id)
                measurements.append(
                    {
                        "round": round_index,
                        "parallelism": parallelism,
                        "taskmanagers_used": spread,
                        "sustained_eps": round(throughput.sustained),
                        "whole_run_eps": round(throughput.whole_run),
                    }
                )
                print(json.dumps(measurements[-1]), file=sys.stderr)
    finally:
        pipeline.stop()

    def rates(parallelism: int, key: str) -> list[float]:
        return [m[key] for m in measurements if m["parallelism"] == parallelism]

    pairs = [
        (four["sustained_eps"], two["sustained_eps"])
        for two, four in zip(
            [m for m in measurements if m["parallelism"] == 2],
            [m for m in measurements if m["parallelism"] == 4],
            strict=True,
        )
    ]
    summary = {
        "events_per_measurement": args.events,
        "measurements": measurements,
        "rescales": [
            {k: r[k] for k in ("from_parallelism", "to_parallelism", "stop_s", "unavailable_s")}
            for r in rescales
        ],
        "p2_sustained_eps_median": statistics.median(rates(2, "sustained_eps")),
        "p4_sustained_eps_median": statistics.median(rates(4, "sustained_eps")),
        "p4_over_p2_sustained_median": round(statistics.median(a / b for a, b in pairs), 3),
        "rescale_unavailable_s_median": statistics.median(r["unavailable_s"] for r in rescales)
        if rescales
        else None,
    }
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"rescale-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
