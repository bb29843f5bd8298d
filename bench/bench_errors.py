"""Fingerprinting cost per error record, against parsing alone, in the same run on the same messages.

Two sets of error messages: the multi-line Java and Python samples (deploy/samples/multiline/,
grouped by their stack frames) and the error-level single lines of deploy/samples/mixed.log
(grouped by their message template). Per set and run, pinned to one core, in CPU time of the
benchmarking thread (``time.thread_time``):

- ``parse_message`` of every message, which now includes fingerprinting (what the job pays);
- fingerprinting alone (``grouping_input`` + ``fingerprint_of``, what ``annotate`` adds) on the
  records that parse produced;

so parsing alone is the difference. Prints JSON with medians over the runs: microseconds per
record for each, and fingerprint / parse-alone. Usage:

    .venv/bin/python bench/bench_errors.py [--runs 7] [--messages 20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cpu_time import pin_to_one_cpu  # noqa: E402

from common.errors.fingerprint import fingerprint_of, grouping_input, is_error  # noqa: E402
from common.parsing import ParseOptions, parse_message  # noqa: E402

SAMPLES = REPO / "deploy" / "samples"


def stack_messages() -> list[bytes]:
    return [path.read_bytes() for path in sorted((SAMPLES / "multiline").glob("*.log"))]


def template_messages(options: ParseOptions) -> list[bytes]:
    lines = [line for line in (SAMPLES / "mixed.log").read_bytes().split(b"\n") if line]
    return [line for line in lines if is_error(parse_message(line, options))]


def cpu_seconds(fn: Callable[[], None]) -> float:
    start = time.thread_time()
    fn()
    return time.thread_time() - start


def measure(messages: list[bytes], runs: int, options: ParseOptions) -> dict[str, Any]:
    records = [parse_message(m, options) for m in messages]
    assert all(r["error"]["fingerprint"] for r in records), "every message must be an error record"

    def parse_all() -> None:
        for message in messages:
            parse_message(message, options)

    def fingerprint_all() -> None:
        for record in records:
            fingerprint_of(grouping_input(record)[0])

    parse_all()
    fingerprint_all()  # warm regexes and caches before timing
    parse_us: list[float] = []
    fp_us: list[float] = []
    for _ in range(runs):
        with_fp = cpu_seconds(parse_all) / len(messages) * 1e6
        alone = cpu_seconds(fingerprint_all) / len(messages) * 1e6
        parse_us.append(with_fp - alone)
        fp_us.append(alone)
    parse_median = statistics.median(parse_us)
    fp_median = statistics.median(fp_us)
    return {
        "records": len(messages),
        "parse_alone_us_per_record_median": round(parse_median, 2),
        "fingerprint_us_per_record_median": round(fp_median, 2),
        "fingerprint_over_parse_ratio_median": round(
            statistics.median(f / p for f, p in zip(fp_us, parse_us, strict=True)), 3
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: the first allowed)")
    args = parser.parse_args()
    pin_to_one_cpu(args.cpu)
    options = ParseOptions()
    sets = {
        "stack (java + python samples)": stack_messages(),
        "template (mixed.log errors)": template_messages(options),
    }
    import common.parsing.api as api

    out: dict[str, Any] = {"compiled": not str(api.__file__).endswith(".py"), "runs": args.runs}
    for name, base in sets.items():
        messages = (base * (args.messages // len(base) + 1))[: args.messages]
        out[name] = measure(messages, args.runs, options)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
