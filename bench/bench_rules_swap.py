"""Hot-swap cost: resident memory growth and time per swap over 1,000 consecutive rule-set swaps.

Two scenarios on an engine holding 100 realistic rules (the bench_rules.py workload), each swap
followed by a batch of 512 real log records so that every new ruleset is really used by
durable-rules (unused rulesets leak far less, which would flatter the figure):

- ``one_rule``: each swap changes one rule (``upsert`` with a new constant) - the realistic case;
- ``full_replace``: each swap replaces all 100 rules with new constants (``replace_all``).

Memory is the RSS of this process plus every engine host process it runs (the live host and the
warm spare), read from /proc/<pid>/statm. Same-run baseline: the same loop of batches with no swaps.
Reported: medians over ``--runs`` of growth (MB) and time per swap (ms), and host recycles.

    .venv/bin/python bench/bench_rules_swap.py [--runs 3] [--swaps 1000] [--cpu 0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rules import corpus_words, load_lines, make_rules  # noqa: E402

from common.parsing import parse_message  # noqa: E402
from common.rules import RuleEngine  # noqa: E402

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * _PAGE
        except OSError:
            continue
    return total / (1024 * 1024)


def scenario(
    swaps: int,
    batches: list[list[bytes]],
    rules: list[dict[str, Any]],
    swap: Callable[[RuleEngine, int], None] | None,
) -> dict[str, float]:
    with RuleEngine() as engine:
        engine.replace_all(rules)
        for batch in batches[:4]:  # warm up: parser caches, engine state for the initial rules
            engine.apply_batch([parse_message(x) for x in batch])

        def pids() -> list[int]:
            return [os.getpid(), *engine.host.process_ids()]

        before = rss_mb(pids())
        peak = before
        swap_seconds: list[float] = []
        for i in range(swaps):
            if swap is not None:
                start = time.perf_counter()
                swap(engine, i)
                swap_seconds.append(time.perf_counter() - start)
            engine.apply_batch([parse_message(x) for x in batches[i % len(batches)]])
            if i % 50 == 0:
                peak = max(peak, rss_mb(pids()))
        after = rss_mb(pids())
        return {
            "rss_before_mb": before,
            "rss_after_mb": after,
            "growth_mb": after - before,
            "peak_growth_mb": max(peak, after) - before,
            "swap_ms_median": statistics.median(swap_seconds) * 1000 if swap_seconds else 0.0,
            "host_recycles": engine.host.recycles,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--swaps", type=int, default=1000)
    parser.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})

    lines = load_lines()
    words = corpus_words(lines)
    batches = [lines[i : i + 512] for i in range(0, len(lines), 512)]
    base_rules = make_rules(100, words, seed=1)
    changed = base_rules[10]

    def one_rule(engine: RuleEngine, i: int) -> None:
        # A new constant each time: a genuinely new condition, so a new durable-rules ruleset.
        rule = json.loads(json.dumps(changed))
        rule["when"]["all"].append({"field": "process.pid", "op": "ne", "value": 1_000_000 + i})
        engine.upsert(rule)

    def full_replace(engine: RuleEngine, i: int) -> None:
        rules = json.loads(json.dumps(base_rules))
        for rule in rules:
            rule["when"] = {
                "all": [rule["when"], {"field": "process.pid", "op": "ne", "value": 1_000_000 + i}]
            }
        engine.replace_all(rules)

    results: dict[str, list[dict[str, float]]] = {"baseline_no_swaps": [], "one_rule": [], "full_replace": []}
    for _ in range(args.runs):
        results["baseline_no_swaps"].append(scenario(args.swaps, batches, base_rules, None))
        results["one_rule"].append(scenario(args.swaps, batches, base_rules, one_rule))
        results["full_replace"].append(scenario(args.swaps, batches, base_rules, full_replace))
    report: dict[str, Any] = {"swaps": args.swaps, "runs": args.runs, "rules": len(base_rules), "median": {}}
    for name, runs in results.items():
        report["median"][name] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    report["all_runs"] = results
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
