"""Ordering of publications: the topic's last record for a rule is never older than the store."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from rules_api.broadcast import Broadcaster
from rules_api.publisher import Publisher, PublishError
from rules_api.store.base import Change, HistoryEntry, StoredRule
from rules_api.store.memory import MemoryRuleStore


def change(rule_id: str, expected: int, priority: int) -> Change:
    rule = {"id": rule_id, "priority": priority}
    version = expected + 1
    return Change(
        rule_id,
        expected,
        StoredRule(rule_id, version, "2026-01-01T00:00:00.000Z", "t", rule),
        HistoryEntry(version, "update", "2026-01-01T00:00:00.000Z", "t", rule),
    )


class SlowPublisher(Publisher):
    """On its first write the lock expires and another replica commits a newer version meanwhile."""

    def __init__(self, store: MemoryRuleStore) -> None:
        self.store = store
        self.records: list[tuple[str, Any]] = []
        self.first = True

    async def publish(self, key: str, value: bytes | None) -> None:
        if self.first:
            self.first = False
            self.store._locks.pop(key, None)  # the lock TTL ran out while Kafka was slow
            await self.store.commit([change(key, 1, 2)], 10)
        self.records.append((key, None if value is None else json.loads(value)))

    async def ensure_topic(self) -> None:
        return None

    async def check(self) -> None:
        return None


def test_an_expired_lock_leads_to_republishing_the_current_version() -> None:
    store = MemoryRuleStore()
    publisher = SlowPublisher(store)

    async def scenario() -> int:
        await store.commit([change("r", 0, 1)], 10)
        return await Broadcaster(store, publisher, lock_ttl_s=5).publish("r")

    assert asyncio.run(scenario()) == 2
    assert [v["version"] for _, v in publisher.records] == [1, 2]
    assert asyncio.run(store.published_versions()) == {"r": 2}


class DownPublisher(SlowPublisher):
    async def publish(self, key: str, value: bytes | None) -> None:
        raise PublishError("down")


def test_a_failed_publish_releases_the_lock_and_counts_the_failure() -> None:
    store = MemoryRuleStore()
    failures: list[int] = []

    async def scenario() -> None:
        await store.commit([change("r", 0, 1)], 10)
        broadcaster = Broadcaster(
            store, DownPublisher(store), lock_ttl_s=5, on_failure=lambda: failures.append(1)
        )
        with pytest.raises(PublishError):
            await broadcaster.publish("r")
        assert await broadcaster.lagging() == ["r"]
        assert await store.acquire_lock("r", 1) is not None

    asyncio.run(scenario())
    assert failures == [1]
