"""Rules throughput: parse + rules on one core, with 100 and 1,000 realistic rules; activation time.

Workload: the 12 loghub samples (24,000 real lines). The rule sets are generated from that corpus
the way an operator would write them: most rules are scoped to one dataset (``event.dataset eq``)
and test a word that really occurs in it (``contains``/``matches``/``startswith``), some test the
level, a few apply everywhere (mask IPv4 addresses, tag errors); actions are tag, extract, mask,
set, route and alert. Every process involved (this one and the durable-rules engine host) is pinned
to the same CPU, and rates are wall-clock, so the figure is what one core delivers.

The collector is set as the job sets it (``common/gc_settings.py``, ``LOGFLOW_GC_GEN0``).

Same-run baseline: ``parse_message`` alone on the same lines. Reported: medians over ``--runs`` of
events/s for parse only, parse + 100 rules, parse + 1,000 rules, the ratios to the baseline, the
rules' own cost per event (1/rate - 1/parse rate, which does not move with the parser's speed), and
the median time to compile + activate a fresh 100-rule set (``RuleEngine.replace_all``).

    .venv/bin/python bench/bench_rules.py [--runs 5] [--batch 512] [--cpu 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from common.gc_settings import tune_for_batches  # noqa: E402
from common.parsing import parse_message  # noqa: E402
from common.rules import RuleEngine  # noqa: E402

LOGHUB = REPO / "tests" / "data" / "loghub"
_WORD = re.compile(r"[A-Za-z][A-Za-z_]{4,}")


def load_lines() -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted(LOGHUB.glob("*_2k.log")):
        lines.extend(line for line in path.read_bytes().split(b"\n") if line)
    if not lines:
        raise SystemExit(f"no loghub samples under {LOGHUB}")
    return lines


def corpus_words(lines: list[bytes]) -> dict[str, list[str]]:
    """Per dataset, its words by frequency: what realistic rules would test for."""
    words: dict[str, Counter[str]] = {}
    for line in lines:
        record = parse_message(line)
        dataset = record.get("event", {}).get("dataset", "unknown")
        words.setdefault(dataset, Counter()).update(set(_WORD.findall(str(record.get("message", "")))))
    # Sorted by (-count, word): ties must not depend on string hash randomisation.
    return {d: [w for w, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))] for d, c in words.items()}


def make_rules(count: int, words: dict[str, list[str]], seed: int, tag: str = "") -> list[dict[str, Any]]:
    rng = random.Random(seed)
    datasets = sorted(words)
    rules: list[dict[str, Any]] = [
        # A few rules that apply to every record.
        {
            "id": f"g-mask-ipv4{tag}",
            "priority": -10,
            "when": {"field": "message", "op": "matches", "value": r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b"},
            "then": [{"action": "mask", "field": "message", "pattern": "%{IPV4}", "replacement": "x.x.x.x"}],
        },
        {
            "id": f"g-errors{tag}",
            "when": {"field": "log.level", "op": "in", "value": ["error", "critical", "fatal", "emergency"]},
            "then": [{"action": "tag", "value": "error"}],
        },
        {
            "id": f"g-password{tag}",
            "when": {"field": "message", "op": "contains", "value": "password"},
            "then": [{"action": "mask", "field": "message", "pattern": r"password\S*\s*\S+"}],
        },
    ]
    i = 0
    while len(rules) < count:
        dataset = datasets[i % len(datasets)]
        # Operators write rules for specific events, not for the commonest words: skip the ten
        # most frequent words of each dataset, draw from the next 200.
        pool = words[dataset][10:210] or words[dataset] or ["error"]
        word = rng.choice(pool)
        other = rng.choice(pool)
        kind = i % 5
        scope = {"field": "event.dataset", "op": "eq", "value": dataset}
        if kind == 0:
            cond: dict[str, Any] = {"field": "message", "op": "contains", "value": word}
            then: list[dict[str, Any]] = [{"action": "tag", "value": word.lower()[:30]}]
        elif kind == 1:
            cond = {"field": "message", "op": "matches", "value": rf"\b{word}\b\s+(\S+)"}
            then = [
                {
                    "action": "extract",
                    "field": "message",
                    "pattern": rf"\b{word}\b\s+(?P<v>\S+)",
                    "into": {"v": f"labels.{word.lower()[:20]}"},
                }
            ]
        elif kind == 2:
            cond = {
                "all": [
                    {"field": "log.level", "op": "in", "value": ["warn", "error"]},
                    {"field": "message", "op": "contains", "value": word},
                ]
            }
            then = [
                {"action": "alert", "severity": "medium", "message": f"{word} on {{host.name}}: {{message}}"}
            ]
        elif kind == 3:
            cond = {"field": "message", "op": "startswith", "value": word}
            then = [{"action": "set", "field": "labels.kind", "value": word.lower()}]
        else:
            cond = {
                "all": [
                    {"field": "message", "op": "contains", "value": word},
                    {"not": {"field": "message", "op": "contains", "value": other}},
                ]
            }
            then = [{"action": "tag", "value": f"{word.lower()[:20]}-without-{other.lower()[:20]}"}]
        rules.append(
            {
                "id": f"r{i:04d}{tag}",
                "priority": rng.randrange(0, 5),
                "when": {"all": [scope, cond]},
                "then": then,
            }
        )
        i += 1
    return rules[:count]


def events_per_second(engine: RuleEngine | None, lines: list[bytes], batch: int) -> float:
    start = time.perf_counter()
    for offset in range(0, len(lines), batch):
        records = [parse_message(line) for line in lines[offset : offset + batch]]
        if engine is not None:
            engine.apply_batch(records)
    return len(lines) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})  # the engine host inherits this: everything on one core
    # The job's worker holds batches of records alive and sets the collector for that (as here,
    # from LOGFLOW_GC_GEN0; 0 measures Python's default).
    gc_gen0 = tune_for_batches()

    lines = load_lines()
    words = corpus_words(lines)
    rules_100 = make_rules(100, words, seed=1)
    rules_1000 = make_rules(1000, words, seed=2)
    runs: dict[str, list[float]] = {
        "parse_only": [],
        "rules_100": [],
        "rules_1000": [],
        "activate_100_ms": [],
    }
    with RuleEngine() as engine_100, RuleEngine() as engine_1000, RuleEngine() as engine_swap:
        engine_100.replace_all(rules_100)
        engine_1000.replace_all(rules_1000)
        hits = Counter(h for r in engine_100.apply_batch([parse_message(x) for x in lines]) for h in r.hits)
        for run in range(args.runs):
            runs["parse_only"].append(events_per_second(None, lines, args.batch))
            runs["rules_100"].append(events_per_second(engine_100, lines, args.batch))
            runs["rules_1000"].append(events_per_second(engine_1000, lines, args.batch))
            # A rule set the host has never seen (new ids and seed): full compile + register + swap.
            fresh = make_rules(100, words, seed=100 + run, tag=f"-run{run}")
            start = time.perf_counter()
            engine_swap.replace_all(fresh)
            runs["activate_100_ms"].append((time.perf_counter() - start) * 1000)
    median = {k: statistics.median(v) for k, v in runs.items()}
    report = {
        "lines": len(lines),
        "runs": args.runs,
        "batch": args.batch,
        "cpu": args.cpu,
        "gc_gen0": gc_gen0,
        "rules_100_matching_records": sum(hits.values()),
        "median": median,
        "ratio_rules_100_over_parse_only": median["rules_100"] / median["parse_only"],
        "ratio_rules_1000_over_parse_only": median["rules_1000"] / median["parse_only"],
        # What the rules add per event, independent of the parser's speed: 1/rate - 1/parse_rate.
        "rules_100_cost_us_per_event": 1e6 / median["rules_100"] - 1e6 / median["parse_only"],
        "rules_1000_cost_us_per_event": 1e6 / median["rules_1000"] - 1e6 / median["parse_only"],
        "all_runs": runs,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
