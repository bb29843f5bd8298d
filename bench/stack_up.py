"""Benchmark `logflow stack up`: cold (empty LOGFLOW_HOME) vs warm (after `down`), and idle RSS.

Runs a private stack in a temporary LOGFLOW_HOME on free loopback ports, so the shared stack on the
default ports is untouched. The Maven cache (~/.m2) is NOT cleared, so "cold" measures unpacking,
formatting and first start, not network speed. Prints JSON with medians; the warm/cold ratio is the
speed-up the download cache and preserved storage give.

    .venv/bin/python bench/stack_up.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def logflow(env: dict[str, str], *args: str) -> float:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "common.cli", *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"logflow {' '.join(args)} failed: {result.stderr.strip()}")
    return time.monotonic() - started


def idle_rss_mib(env: dict[str, str], settle_seconds: float) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from deploy.stack import processes
    from deploy.stack.layout import StackLayout

    time.sleep(settle_seconds)
    layout = StackLayout(Path(env["LOGFLOW_HOME"]))
    rss = {}
    for pid_file in sorted(layout.run.glob("*.pid")):
        pid = processes.read_pid(pid_file)
        if pid is not None:
            rss[pid_file.stem] = round(processes.rss_kib(pid) / 1024, 1)
    return rss


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="warm restarts to time (cold is timed once)")
    parser.add_argument("--settle", type=float, default=20.0, help="idle seconds before measuring RSS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="logflow-bench-") as home:
        env = dict(os.environ)
        env.update(
            {
                "LOGFLOW_HOME": home,
                "LOGFLOW_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
                "LOGFLOW_KAFKA_CONTROLLER_PORT": str(free_port()),
                "LOGFLOW_ES_URL": f"http://127.0.0.1:{free_port()}",
                "LOGFLOW_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                "LOGFLOW_FLINK_REST": f"http://127.0.0.1:{free_port()}",
                "LOGFLOW_FLINK_RPC_PORT": str(free_port()),
                "LOGFLOW_API_URL": f"http://127.0.0.1:{free_port()}",
            }
        )
        os.chmod(home, 0o755)
        try:
            cold = logflow(env, "stack", "up")
            rss = idle_rss_mib(env, args.settle)
            idempotent = [logflow(env, "stack", "up") for _ in range(args.runs)]
            warm = []
            for _ in range(args.runs):
                logflow(env, "stack", "down")
                warm.append(logflow(env, "stack", "up"))
        finally:
            down = [sys.executable, "-m", "common.cli", "stack", "down"]
            subprocess.run(down, env=env, capture_output=True, check=False)
    report = {
        "cold_up_seconds": round(cold, 1),
        "warm_up_seconds_median": round(statistics.median(warm), 1),
        "warm_up_seconds": [round(w, 1) for w in warm],
        "warm_over_cold_ratio": round(statistics.median(warm) / cold, 2),
        "already_up_seconds_median": round(statistics.median(idempotent), 2),
        "idle_rss_mib": rss,
        "idle_rss_total_mib": round(sum(rss.values()), 1),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
