"""Getting every stored change into the compacted topic, in order, eventually even after outages.

Why this shape: the store commits first (so a change is never lost), then the replica that made it
publishes the rule's *current* state under a short per-rule lock in Redis. Because whoever holds
the lock always publishes what is current at that moment, the last record for a key is never older
than the last commit before it; if the lock expired mid-publish (a very slow broker), the holder
notices and publishes the current state again. The store's ``published`` mark is the outbox: the
reconciler republishes every rule whose mark lags its version (at startup and periodically), so a
change accepted while Kafka was down still reaches the topic, and the topic converges on the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from common.schema import rules_topic
from rules_api.publisher import Publisher, PublishError
from rules_api.store.base import RuleStore

log = logging.getLogger(__name__)


class Broadcaster:
    def __init__(
        self,
        store: RuleStore,
        publisher: Publisher,
        lock_ttl_s: float,
        on_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._lock_ttl_s = lock_ttl_s
        self._on_failure = on_failure

    async def publish(self, rule_id: str) -> int:
        """Publish the rule's current state (a tombstone if deleted); returns the version published."""
        try:
            return await self._publish(rule_id)
        except PublishError:
            self._on_failure()
            raise

    async def _publish(self, rule_id: str) -> int:
        for _ in range(3):
            token = await self._lock(rule_id)
            try:
                state = await self._store.state(rule_id)
                if state.version == 0:
                    await self._store.release_lock(rule_id, token)
                    return 0
                value = rules_topic.encode(state.current)
                await self._publisher.publish(rule_id, value)
            except BaseException:
                await self._store.release_lock(rule_id, token)
                raise
            if await self._store.finish_publish(rule_id, token, state.version):
                return state.version
            # The lock expired while Kafka was slow: another replica may have published a newer
            # version before ours landed, so publish what is current now, once more, under the lock.
            log.warning("publish lock for %s expired mid-publish; republishing current state", rule_id)
        raise PublishError(f"could not publish rule {rule_id!r} under its lock")

    async def _lock(self, rule_id: str) -> str:
        deadline = asyncio.get_running_loop().time() + self._lock_ttl_s
        delay = 0.005
        while True:
            token = await self._store.acquire_lock(rule_id, self._lock_ttl_s)
            if token is not None:
                return token
            if asyncio.get_running_loop().time() > deadline:
                raise PublishError(f"publish lock for rule {rule_id!r} is busy")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def lagging(self) -> list[str]:
        versions = await self._store.versions()
        published = await self._store.published_versions()
        return sorted(rule_id for rule_id, v in versions.items() if published.get(rule_id, 0) < v)

    async def reconcile(self) -> int:
        """Republish every rule whose published mark lags the store; returns how many were sent."""
        sent = 0
        for rule_id in await self.lagging():
            await self.publish(rule_id)
            sent += 1
        if sent:
            log.info("reconciler published %d lagging rule(s)", sent)
        return sent
