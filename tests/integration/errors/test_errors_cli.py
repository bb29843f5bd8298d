"""`logflow errors` reads the groups written through common.schema.error_groups, from the real Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from common.schema.error_groups import ErrorGroup, ErrorGroupKeys, group_commands, window_count_commands
from common.settings import RedisSettings

pytestmark = [pytest.mark.integration, pytest.mark.stack_services("redis")]

LOGFLOW = str(Path(sys.executable).parent / "logflow")
WINDOW_S = 60


def connect() -> Any:
    settings = RedisSettings.from_env()
    return redis.Redis.from_url(settings.url, decode_responses=True, **settings.client_kwargs())


def write(client: Any, commands: list[tuple[Any, ...]]) -> None:
    """The whole writer: the contract's commands in one MULTI/EXEC."""
    pipe = client.pipeline(transaction=True)
    for command in commands:
        pipe.execute_command(*command)
    pipe.execute()


def errors(prefix: str, *args: str) -> str:
    env = {**os.environ, "LOGFLOW_STATS_PREFIX": prefix, "LOGFLOW_WINDOW_SECONDS": str(WINDOW_S)}
    result = subprocess.run([LOGFLOW, "errors", *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def seed(prefix: str) -> list[ErrorGroup]:
    now = time.time()
    groups = [
        ErrorGroup("1111aaaa2222bbbb", 120, now - 3 * 86400, now - 600, "db down", "java.io.IOException"),
        ErrorGroup(
            "3333cccc4444dddd",
            4,
            now - 1800,
            now - 60,
            "order 7 failed",
            "",
            "log4j",
            "web-1",
            "shop",
            "order <num> failed",
        ),
        ErrorGroup("5555eeee6666ffff", 9, now - 10 * 86400, now - 2 * 86400, "old", "KeyError"),
    ]
    keys = ErrorGroupKeys(prefix, WINDOW_S)
    client = connect()
    try:
        for group in groups:
            write(client, group_commands(keys, group, ttl_seconds=600))
        start = int(now) - int(now) % WINDOW_S
        for fingerprint, count in (("3333cccc4444dddd", 2), ("1111aaaa2222bbbb", 1)):
            write(client, window_count_commands(keys, start, fingerprint, count, 600))
        assert client.hgetall(keys.window(start)) == {"3333cccc4444dddd": "2", "1111aaaa2222bbbb": "1"}
        assert client.ttl(keys.group("3333cccc4444dddd")) > 0
    finally:
        client.close()
    return groups


def test_no_groups_says_so(prefix: str) -> None:
    assert errors(prefix).strip() == "no error groups seen in that span"


def test_top_groups_by_count_within_the_span(prefix: str) -> None:
    seed(prefix)
    printed = json.loads(errors(prefix, "--json"))["groups"]
    assert [(g["fingerprint"], g["count"]) for g in printed] == [
        ("1111aaaa2222bbbb", 120),
        ("3333cccc4444dddd", 4),
    ]
    second = printed[1]
    assert second["sample"] == {
        "message": "order 7 failed",
        "type": "",
        "dataset": "log4j",
        "host": "web-1",
        "service": "shop",
        "template": "order <num> failed",
    }
    assert second["records"]["query"]["query"] == {"term": {"error.fingerprint": "3333cccc4444dddd"}}

    week = json.loads(errors(prefix, "--since", "7d", "--json", "--order", "last_seen"))["groups"]
    assert [g["fingerprint"] for g in week] == ["3333cccc4444dddd", "1111aaaa2222bbbb", "5555eeee6666ffff"]

    table = errors(prefix).splitlines()
    assert table[0].startswith("fingerprint") and len(table) == 3
    assert "java.io.IOException" in table[1] and "order <num> failed  [shop/web-1]" in table[2]


def test_new_lists_only_groups_first_seen_in_the_span(prefix: str) -> None:
    seed(prefix)
    printed = json.loads(errors(prefix, "--new", "--json"))["groups"]
    assert [g["fingerprint"] for g in printed] == ["3333cccc4444dddd"]
