"""Rules API benchmark: 20 concurrent clients (threads) doing create, update and get against a real server.

Starts `logflow api serve` on a free 127.0.0.1 port, backed by the local stack's Redis and Kafka but
isolated (its own rules topic and Redis key prefix, both removed afterwards). Each client loops
create -> update (PUT with If-Match) -> get on its own rules, so every write is a Lua compare-and-set
in Redis plus an acknowledged (acks=all, idempotent) Kafka write before the answer. The same-run
baseline is GET /healthz with the same concurrency: the HTTP stack alone, touching no dependency.

    .venv/bin/python bench/bench_api.py --runs 3 --seconds 10 --clients 20
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
LOGFLOW = str(Path(sys.executable).with_name("logflow"))

RULE: dict[str, Any] = {
    "description": "bench rule",
    "enabled": True,
    "priority": 10,
    "when": {
        "all": [
            {"field": "process.name", "op": "eq", "value": "sshd"},
            {"field": "message", "op": "matches", "value": "^Invalid user "},
        ]
    },
    "then": [{"action": "tag", "value": "ssh-invalid-user"}],
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [LOGFLOW, "api", "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    url = f"http://127.0.0.1:{port}"
    token = env["BENCH_TOKEN"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"API exited early:\n{log_path.read_text()}")
        try:
            ready = httpx.get(f"{url}/readyz", headers={"Authorization": f"Bearer {token}"}, timeout=5)
            if ready.status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    process.terminate()
    raise SystemExit(f"API did not become ready:\n{log_path.read_text()}")


def run_clients(clients: int, body: Callable[[int, float], None], seconds: float) -> float:
    """Run ``body(number, stop_at)`` on ``clients`` threads; returns the elapsed wall time.

    Threads with one keep-alive sync client each: httpx's asyncio pool serialises badly under
    concurrency and would measure the load generator instead of the server.
    """
    stop_at = time.perf_counter() + seconds
    threads = [threading.Thread(target=body, args=(i, stop_at)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def workload(url: str, token: str, clients: int, seconds: float, run: str) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {"create": [], "update": [], "get": []}
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def client(number: int, stop_at: float) -> None:
        mine: dict[str, list[float]] = {"create": [], "update": [], "get": []}
        failed: dict[str, int] = {}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:

            def timed(op: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
                start = time.perf_counter()
                response = http.request(method, path, **kwargs)
                mine[op].append(time.perf_counter() - start)
                if response.status_code >= 400:
                    key = f"{op}:{response.status_code}"
                    failed[key] = failed.get(key, 0) + 1
                return response

            sequence = 0
            while time.perf_counter() < stop_at:
                rule_id = f"bench-{run}-{number}-{sequence}"
                sequence += 1
                created = timed("create", "POST", "/api/v1/rules", json={"id": rule_id, **RULE})
                if created.status_code != 201:
                    continue
                timed(
                    "update",
                    "PUT",
                    f"/api/v1/rules/{rule_id}",
                    json={"id": rule_id, **RULE, "priority": 20},
                    headers={"If-Match": created.headers["etag"]},
                )
                timed("get", "GET", f"/api/v1/rules/{rule_id}")
        with lock:
            for op, values in mine.items():
                latencies[op].extend(values)
            for key, count in failed.items():
                errors[key] = errors.get(key, 0) + count

    elapsed = run_clients(clients, client, seconds)
    every = [x for values in latencies.values() for x in values]
    return {
        "requests": len(every),
        "throughput_rps": len(every) / elapsed,
        "p50_ms": percentile(every, 0.5) * 1000,
        "p99_ms": percentile(every, 0.99) * 1000,
        "by_op": {
            op: {
                "n": len(values),
                "p50_ms": percentile(values, 0.5) * 1000,
                "p99_ms": percentile(values, 0.99) * 1000,
            }
            for op, values in latencies.items()
        },
        "errors": errors,
    }


def baseline(url: str, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    lock = threading.Lock()

    def client(_: int, stop_at: float) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=url, timeout=30) as http:
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                http.get("/healthz")
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    elapsed = run_clients(clients, client, seconds)
    return {
        "requests": len(latencies),
        "throughput_rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def cleanup(prefix: str, topic: str) -> None:
    import redis
    from confluent_kafka.admin import AdminClient

    from common.settings import KafkaSettings, RedisSettings

    redis_settings = RedisSettings.from_env()
    client = redis.Redis.from_url(redis_settings.url, **redis_settings.client_kwargs())
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    AdminClient(dict(KafkaSettings.from_env().client_config())).delete_topics([topic], operation_timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    from rules_api.security import hash_token

    run_id = uuid.uuid4().hex[:8]
    token = secrets.token_urlsafe(24)
    prefix = f"logflow:bench-{run_id}:"
    topic = f"logflow.rules.bench-{run_id}"
    env = dict(os.environ)
    env.update(
        {
            "LOGFLOW_API_TOKENS": f"bench:admin:{hash_token(token)}",
            "LOGFLOW_RULES_TOPIC": topic,
            "LOGFLOW_API_REDIS_PREFIX": prefix,
            # Each run creates thousands of rules; the limit is not what is measured here.
            "LOGFLOW_API_MAX_RULES": "1000000",
            "BENCH_TOKEN": token,
        }
    )
    env.pop("LOGFLOW_API_TOKENS_FILE", None)
    log_path = Path(tempfile.mkdtemp(prefix="bench-api-")) / "api.log"
    process, url = start_server(env, log_path)
    runs: list[dict[str, Any]] = []
    try:
        for number in range(args.runs):
            base = baseline(url, args.clients, args.seconds)
            api = workload(url, token, args.clients, args.seconds, f"{run_id}-{number}")
            runs.append({"baseline_healthz": base, "create_update_get": api})
            print(
                f"run {number + 1}: {api['throughput_rps']:.0f} req/s p50 {api['p50_ms']:.1f} ms "
                f"p99 {api['p99_ms']:.1f} ms | healthz {base['throughput_rps']:.0f} req/s "
                f"p50 {base['p50_ms']:.1f} ms",
                file=sys.stderr,
            )
    finally:
        process.terminate()
        process.wait(timeout=20)
        cleanup(prefix, topic)

    def median(path: list[str]) -> float:
        values = []
        for run in runs:
            node: Any = run
            for key in path:
                node = node[key]
            values.append(float(node))
        return statistics.median(values)

    summary = {
        "clients": args.clients,
        "seconds_per_run": args.seconds,
        "runs": args.runs,
        "median": {
            "throughput_rps": median(["create_update_get", "throughput_rps"]),
            "p50_ms": median(["create_update_get", "p50_ms"]),
            "p99_ms": median(["create_update_get", "p99_ms"]),
            **{
                f"{op}_{stat}": median(["create_update_get", "by_op", op, stat])
                for op in ("create", "update", "get")
                for stat in ("p50_ms", "p99_ms")
            },
            "baseline_healthz_throughput_rps": median(["baseline_healthz", "throughput_rps"]),
            "baseline_healthz_p50_ms": median(["baseline_healthz", "p50_ms"]),
            "baseline_healthz_p99_ms": median(["baseline_healthz", "p99_ms"]),
        },
        "per_run": runs,
    }
    m = summary["median"]
    m["throughput_ratio_vs_healthz"] = m["throughput_rps"] / m["baseline_healthz_throughput_rps"]
    m["p50_ratio_vs_healthz"] = m["p50_ms"] / m["baseline_healthz_p50_ms"]
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
