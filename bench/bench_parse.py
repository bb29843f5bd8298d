"""Parsing throughput: records per second of ``parse_message`` on a mixed corpus, on one core.

Beside it, in the same run and on the same lines, the baseline: only ``json.dumps`` of each line's
text. The ratio says how many times a plain serialisation the parser costs. Rates are lines per
CPU-second of the benchmarking thread (``time.thread_time``), pinned to one core. Usage:

    .venv/bin/python bench/bench_parse.py [--runs 7] [--lines 60000] [--corpus FILE ...] [--loghub]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cpu_time import pin_to_one_cpu, rate  # noqa: E402

from common.parsing import ParseOptions, parse_message  # noqa: E402

DEFAULT_CORPUS = REPO / "deploy" / "samples" / "mixed.log"
LOGHUB = REPO / "tests" / "data" / "loghub"


def load(paths: list[Path], total: int) -> list[bytes]:
    lines: list[bytes] = []
    for path in paths:
        lines.extend(line for line in path.read_bytes().split(b"\n") if line)
    if not lines:
        raise SystemExit("empty corpus")
    repeated = (lines * (total // len(lines) + 1))[:total]
    return repeated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--lines", type=int, default=60_000)
    parser.add_argument(
        "--corpus", type=Path, action="append", help=f"line file(s); default {DEFAULT_CORPUS}"
    )
    parser.add_argument("--loghub", action="store_true", help=f"use the 12 loghub sets in {LOGHUB}")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: the first allowed)")
    args = parser.parse_args()

    pin_to_one_cpu(args.cpu)
    paths = args.corpus or ([*sorted(LOGHUB.glob("*_2k.log"))] if args.loghub else [DEFAULT_CORPUS])
    lines = load(paths, args.lines)
    texts = [line.decode("utf-8", "replace") for line in lines]
    options = ParseOptions()
    dumps = json.dumps

    def parse_all() -> None:
        for line in lines:
            parse_message(line, options)

    def parse_and_serialise() -> None:
        for line in lines:
            dumps(parse_message(line, options))

    def dumps_only() -> None:
        for text in texts:
            dumps(text)

    parse_all()  # warm caches (regexes, zone, month tables) before timing
    parse_rates, full_rates, dumps_rates, ratios = [], [], [], []
    for _ in range(args.runs):
        parse_rate = rate(parse_all, len(lines))
        dumps_rate = rate(dumps_only, len(lines))
        full_rate = rate(parse_and_serialise, len(lines))
        parse_rates.append(parse_rate)
        dumps_rates.append(dumps_rate)
        full_rates.append(full_rate)
        ratios.append(dumps_rate / parse_rate)
    result = {
        "corpus": [str(p) for p in paths],
        "lines": len(lines),
        "runs": args.runs,
        "parse_lines_per_s_median": round(statistics.median(parse_rates)),
        "parse_plus_dumps_lines_per_s_median": round(statistics.median(full_rates)),
        "json_dumps_baseline_lines_per_s_median": round(statistics.median(dumps_rates)),
        "baseline_over_parse_ratio_median": round(statistics.median(ratios), 2),
        "parse_runs": [round(r) for r in parse_rates],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
