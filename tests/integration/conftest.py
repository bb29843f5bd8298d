"""Fixtures shared by the integration tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from common.settings import RedisSettings
from jobs.sinks.redis_stats import connect


@pytest.fixture
def prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own (for ``LOGFLOW_STATS_PREFIX``); its keys go afterwards."""
    name = f"logflow-test:{uuid.uuid4().hex[:10]}"
    yield name
    client = connect(RedisSettings.from_env())
    try:
        keys = list(client.scan_iter(match=f"{name}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
