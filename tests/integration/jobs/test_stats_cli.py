"""`logflow stats` reads the windows the job writes, from the real Redis, under its own key prefix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from common.schema.stats import StatsKeys, WindowStats
from common.settings import RedisSettings
from jobs.sinks.redis_stats import connect, write_window

pytestmark = [pytest.mark.integration, pytest.mark.stack_services("redis")]

LOGFLOW = str(Path(sys.executable).parent / "logflow")
WINDOW_S = 60


def stats(prefix: str, *args: str) -> str:
    env = {**os.environ, "LOGFLOW_STATS_PREFIX": prefix, "LOGFLOW_WINDOW_SECONDS": str(WINDOW_S)}
    result = subprocess.run([LOGFLOW, "stats", *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_no_windows_says_when_windows_appear(prefix: str) -> None:
    out = stats(prefix)
    assert out.startswith("no windows in that range") and "once it closes" in out


def test_written_windows_are_listed_oldest_first_within_the_range(prefix: str) -> None:
    now = int(time.time())
    current = now - now % WINDOW_S
    keys = StatsKeys(prefix, WINDOW_S)
    client = connect(RedisSettings.from_env())
    try:
        for start, total in ((current - 2 * WINDOW_S, 5), (current - WINDOW_S, 7), (current - 3600, 99)):
            window = WindowStats(start, start + WINDOW_S, total=total, indexed=total - 1, dropped=1)
            window.by_dataset = Counter({"syslog": total - 1, "json": 1})
            write_window(client, keys, window, ttl_seconds=600)
    finally:
        client.close()

    printed = json.loads(stats(prefix, "--since", "15m", "--json"))["windows"]
    assert [w["total"] for w in printed] == [5, 7]  # the hour-old window is out of range
    assert printed[1]["by_dataset"] == {"json": 1, "syslog": 6} and printed[1]["dropped"] == 1

    table = stats(prefix, "--since", "15m").splitlines()
    assert table[0].startswith("window start (UTC)")
    assert len(table) == 3 and "syslog=6" in table[2]
