"""`logflow parse` as a whole process against a `json.dumps` floor (issue 16).

    .venv/bin/python bench/bench_parse_process.py --lines 60000 --runs 5

The input is ``deploy/samples/mixed.log`` cycled to ``--lines`` lines in a temporary file. Each run
starts, in alternating order, two processes with the same interpreter, stdin from that file and
stdout to /dev/null:

- ``logflow parse`` (``python -m common.cli parse``): parse every line, write one JSON record each;
- the floor: read every line and write ``json.dumps`` of its text, the least a program that turns
  lines into JSON lines can do (start-up, reading, one standard-library encode, writing).

Per process: CPU seconds (user + system, from the kernel's accounting of the finished child) and
wall time. Prints JSON: medians, and ``floor_over_parse`` (the floor's CPU over logflow's, per run,
then the median; 1.0 would be parsing for free).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "deploy" / "samples" / "mixed.log"
FLOOR = (
    "import sys, json\n"
    "out = sys.stdout\n"
    "for line in sys.stdin.buffer:\n"
    "    line = line.rstrip(b'\\n')\n"
    "    if line:\n"
    "        out.write(json.dumps(line.decode('utf-8', 'backslashreplace'), ensure_ascii=False) + '\\n')\n"
)


def input_file(lines: int, directory: Path) -> Path:
    sample = [line for line in SAMPLE.read_bytes().splitlines() if line.strip()]
    path = directory / "input.log"
    path.write_bytes(b"\n".join(sample[i % len(sample)] for i in range(lines)) + b"\n")
    return path


def measure(command: list[str], source: Path) -> dict[str, float]:
    """CPU seconds (user + system) and wall seconds of one child process."""
    with source.open("rb") as stdin, open(os.devnull, "wb") as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=stdin, stdout=stdout, cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command} exited with {os.waitstatus_to_exitcode(status)}")
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    commands = {
        "logflow_parse": [sys.executable, "-m", "common.cli", "parse"],
        "floor": [sys.executable, "-c", FLOOR],
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="logflow-parse-process-") as work:
        source = input_file(args.lines, Path(work))
        for number in range(args.runs):
            order = list(commands) if number % 2 == 0 else list(reversed(commands))
            for name in order:
                runs[name].append(measure(commands[name], source))
    ratios = [f["cpu_s"] / p["cpu_s"] for f, p in zip(runs["floor"], runs["logflow_parse"], strict=True)]
    report = {
        "lines": args.lines,
        "runs": args.runs,
        "median": {
            name: {key: round(statistics.median(r[key] for r in values), 3) for key in ("cpu_s", "wall_s")}
            for name, values in runs.items()
        },
        "lines_per_cpu_s": {
            name: round(args.lines / statistics.median(r["cpu_s"] for r in values))
            for name, values in runs.items()
        },
        "floor_over_parse": round(statistics.median(ratios), 3),
        "floor_over_parse_per_run": [round(r, 3) for r in ratios],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
