"""Parsing throughput of shippers' envelopes against the same bare lines, in the same run.

Each line of the corpus is parsed bare and wrapped in each shipper's envelope (the metadata of the
samples in tests/fixtures/shippers, the line in its line field), and as OTLP JSON requests of
``--batch`` records each (rate per record). Rates are lines per CPU-second of the benchmarking thread
(``time.thread_time``), pinned to one core; medians over ``--runs``. Usage:

    .venv/bin/python bench/bench_envelopes.py [--runs 7] [--lines 20000] [--batch 10]
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

from common.parsing import ParseOptions, parse_message, parse_messages  # noqa: E402

DEFAULT_CORPUS = REPO / "deploy" / "samples" / "mixed.log"
SHIPPERS = REPO / "tests" / "fixtures" / "shippers"
# shipper -> (sample whose metadata wraps the line, the key the line goes under)
ENVELOPES = {
    "filebeat": ("filebeat_kubernetes.json", "message"),
    "fluent-bit": ("fluentbit_klog.json", "log"),
    "vector": ("vector_kubernetes_logs.json", "message"),
    "logstash": ("logstash_host_string.json", "message"),
    "rsyslog": ("rsyslog_jsonmesg.json", "msg"),
}


def rate(fn: Callable[[], int]) -> float:
    """Records per CPU-second of this thread (wall time on a shared machine measures the neighbours)."""
    start = time.thread_time()
    count = fn()
    return count / (time.thread_time() - start)


def wrap(template: dict[str, Any], key: str, line: str) -> bytes:
    obj = dict(template)
    obj[key] = line
    return json.dumps(obj, separators=(",", ":")).encode()


def otlp_batches(lines: list[str], batch: int) -> list[bytes]:
    template = json.loads((SHIPPERS / "otel_otlp_json.json").read_text())
    resource = template["resourceLogs"][0]["resource"]
    out = []
    for start in range(0, len(lines), batch):
        records = [
            {
                "timeUnixNano": "1710411704123456789",
                "severityNumber": 9,
                "body": {"stringValue": line},
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "eee19b7ec3c1b174",
            }
            for line in lines[start : start + batch]
        ]
        scope_logs = [{"scope": {}, "logRecords": records}]
        request = {"resourceLogs": [{"resource": resource, "scopeLogs": scope_logs}]}
        out.append(json.dumps(request, separators=(",", ":")).encode())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=10, help="log records per OTLP request")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: the first allowed)")
    args = parser.parse_args()

    pin_to_one_cpu(args.cpu)
    raw = [line for line in args.corpus.read_bytes().split(b"\n") if line]
    bare = (raw * (args.lines // len(raw) + 1))[: args.lines]
    texts = [line.decode("utf-8", "replace") for line in bare]
    options = ParseOptions()
    sets: dict[str, list[bytes]] = {"bare": bare}
    for name, (sample, key) in ENVELOPES.items():
        template = json.loads((SHIPPERS / sample).read_text())
        sets[name] = [wrap(template, key, text) for text in texts]
    batches = otlp_batches(texts, args.batch)

    def run(messages: list[bytes]) -> Callable[[], int]:
        def parse_all() -> int:
            for message in messages:
                parse_message(message, options)
            return len(messages)

        return parse_all

    def run_otlp() -> int:
        count = 0
        for message in batches:
            count += len(parse_messages(message, options))
        return count

    def decode_only(messages: list[bytes]) -> Callable[[], int]:
        def loads_all() -> int:
            for message in messages:
                json.loads(message)
            return len(messages)

        return loads_all

    runners: dict[str, Callable[[], int]] = {name: run(messages) for name, messages in sets.items()}
    # What decoding the envelope alone costs (json.loads of each message), beside its parse.
    runners.update({f"{name}:json.loads": decode_only(sets[name]) for name in ENVELOPES})
    runners[f"otlp_json(x{args.batch})"] = run_otlp
    for runner in runners.values():
        runner()  # warm caches before timing
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.runs):
        for name, runner in runners.items():  # interleaved, so load changes hit every set alike
            rates[name].append(rate(runner))
    bare_median = statistics.median(rates["bare"])
    result = {
        "corpus": str(args.corpus),
        "lines": len(bare),
        "runs": args.runs,
        "records_per_s_median": {name: round(statistics.median(r)) for name, r in rates.items()},
        "bare_over_enveloped_ratio": {
            name: round(bare_median / statistics.median(r), 2)
            for name, r in rates.items()
            if name != "bare" and not name.endswith(":json.loads")
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
