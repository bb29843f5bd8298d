"""GET /api/v1/errors against a real `logflow api serve` reading groups from the real Redis."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import redis
from api_stack import Isolation, ServerFactory

from common.schema.error_groups import ErrorGroup, ErrorGroupKeys, group_commands
from common.settings import RedisSettings

pytestmark = [pytest.mark.integration, pytest.mark.stack_services("redis", "kafka")]


def test_error_groups_are_read_from_redis(isolation: Isolation, servers: ServerFactory) -> None:
    prefix = f"{isolation.redis_prefix}stats"  # removed with the rest of the run's keys
    keys = ErrorGroupKeys(prefix, 60)
    now = time.time()
    groups = [
        ErrorGroup("aaaa1111bbbb2222", 30, now - 7200, now - 300, "db down", "java.io.IOException", "log4j"),
        ErrorGroup("cccc3333dddd4444", 2, now - 600, now - 30, "order 9 failed", "", "json", "web-2", "shop"),
    ]
    settings = RedisSettings.from_env()
    client: Any = redis.Redis.from_url(settings.url, decode_responses=True, **settings.client_kwargs())
    try:
        pipe = client.pipeline(transaction=True)
        for group in groups:
            for command in group_commands(keys, group, ttl_seconds=600):
                pipe.execute_command(*command)
        pipe.execute()
    finally:
        client.close()

    server = servers.start(LOGFLOW_STATS_PREFIX=prefix, LOGFLOW_INDEX_PREFIX="logs-it")
    viewer = isolation.auth("viewer")

    listed = httpx.get(f"{server.url}/api/v1/errors", headers=viewer, timeout=10)
    assert listed.status_code == 200, listed.text
    assert [g["fingerprint"] for g in listed.json()["groups"]] == ["cccc3333dddd4444", "aaaa1111bbbb2222"]
    by_count = httpx.get(
        f"{server.url}/api/v1/errors?order=count&new=true&since=1h", headers=viewer, timeout=10
    )
    assert [g["fingerprint"] for g in by_count.json()["groups"]] == ["cccc3333dddd4444"]

    one = httpx.get(f"{server.url}/api/v1/errors/aaaa1111bbbb2222", headers=viewer, timeout=10).json()
    assert one["count"] == 30 and one["sample"]["type"] == "java.io.IOException"
    assert one["records"]["index"] == "logs-it-*,-logs-it-logflow.alert-*"
    assert one["records"]["query"]["query"] == {"term": {"error.fingerprint": "aaaa1111bbbb2222"}}

    missing = httpx.get(f"{server.url}/api/v1/errors/ffff0000ffff0000", headers=viewer, timeout=10)
    assert missing.status_code == 404
    assert httpx.get(f"{server.url}/api/v1/errors", timeout=10).status_code == 401
