"""Multi-line joining throughput: lines per second of the joiner alone, against parsing, on one core.

The corpus is deploy/samples/mixed.log (single-line events of many formats) with the multi-line
fixtures' traces (Java, Python, Go, .NET, Node) spliced in every ``--every`` lines, spread over
``--sources`` sources of one partition. Measured in the same run, on the same lines:

- ``join``: ``JoinerPool.feed`` of every line (the ``auto`` rule set) plus the final flush;
- ``parse``: ``parse_message`` of every line on its own (what the job does today);
- ``join_then_parse``: joining, then ``parse_message`` of each joined event (what it will do).

Rates are lines per CPU-second of the benchmarking thread (``time.thread_time``), medians of the
runs. Usage:

    .venv/bin/python bench/bench_multiline.py [--runs 7] [--lines 60000] [--every 20] [--sources 4]
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

import common.multiline.joiner  # noqa: E402
from common.multiline import JoinerPool, JoinRule, StreamLine  # noqa: E402
from common.parsing import ParseOptions, parse_message  # noqa: E402

MIXED = REPO / "deploy" / "samples" / "mixed.log"
TRACES = REPO / "tests" / "fixtures" / "multiline"


def corpus(total: int, every: int, sources: int) -> list[StreamLine]:
    singles = [line for line in MIXED.read_bytes().decode("utf-8", "replace").split("\n") if line]
    paths = sorted(TRACES.glob("*.log"))
    traces = [path.read_text(encoding="utf-8").rstrip("\n").split("\n") for path in paths]
    texts: list[str] = []
    trace_index = 0
    while len(texts) < total:
        for i, line in enumerate(singles):
            texts.append(line)
            if (i + 1) % every == 0:
                texts.extend(traces[trace_index % len(traces)])
                trace_index += 1
    texts = texts[:total]
    names = [f"web-{n}|/var/log/app.log" for n in range(sources)]
    # Consecutive blocks of 50 lines per source: streams interleave the way shippers' batches do.
    return [
        StreamLine("logs", 0, offset, 1_700_000_000_000, names[(offset // 50) % sources], text)
        for offset, text in enumerate(texts)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--lines", type=int, default=60_000)
    parser.add_argument("--every", type=int, default=20, help="a trace after every N single lines")
    parser.add_argument("--sources", type=int, default=4)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    pin_to_one_cpu(args.cpu)

    lines = corpus(args.lines, args.every, args.sources)
    raw = [line.text.encode("utf-8") for line in lines]
    rule = JoinRule("auto", builtin="auto")
    options = ParseOptions()

    def join() -> list[str]:
        pool = JoinerPool(lambda topic, source: rule)
        feed = pool.feed
        texts: list[str] = []
        for line in lines:
            for event in feed(line, 0):
                texts.append(event.text)
        texts.extend(event.text for event in pool.flush())
        return texts

    def parse() -> None:
        for value in raw:
            parse_message(value, options)

    def join_then_parse() -> None:
        for text in join():
            parse_message(text.encode("utf-8"), options)

    events = len(join())
    parse()  # warm caches before timing
    join_rates, parse_rates, both_rates, ratios = [], [], [], []
    for _ in range(args.runs):
        join_rate = rate(join, len(lines))
        parse_rate = rate(parse, len(lines))
        both_rate = rate(join_then_parse, len(lines))
        join_rates.append(join_rate)
        parse_rates.append(parse_rate)
        both_rates.append(both_rate)
        ratios.append(join_rate / parse_rate)
    compiled = not str(common.multiline.joiner.__file__).endswith(".py")
    print(
        json.dumps(
            {
                "lines": len(lines),
                "events_after_joining": events,
                "sources": args.sources,
                "runs": args.runs,
                "joiner_compiled": compiled,
                "join_lines_per_s_median": round(statistics.median(join_rates)),
                "parse_lines_per_s_median": round(statistics.median(parse_rates)),
                "join_then_parse_lines_per_s_median": round(statistics.median(both_rates)),
                "join_over_parse_ratio_median": round(statistics.median(ratios), 2),
                "join_runs": [round(r) for r in join_rates],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
