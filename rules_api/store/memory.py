"""An in-process store with the same semantics as the Redis one, for unit tests and offline use.

It is not shared between processes, so it cannot back more than one replica.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import time
from collections.abc import Sequence

from rules_api.store.base import (
    Change,
    HistoryEntry,
    RuleLimitError,
    RuleState,
    RuleStore,
    StoredRule,
    VersionConflictError,
)


class MemoryRuleStore(RuleStore):
    def __init__(self) -> None:
        self._current: dict[str, StoredRule] = {}
        self._versions: dict[str, int] = {}
        self._history: dict[str, list[HistoryEntry]] = {}
        self._published: dict[str, int] = {}
        self._locks: dict[str, tuple[str, float]] = {}
        self.available = True

    def _check(self) -> None:
        if not self.available:
            from rules_api.store.base import StoreUnavailableError

            raise StoreUnavailableError("store is unavailable")

    async def state(self, rule_id: str) -> RuleState:
        self._check()
        return RuleState(self._versions.get(rule_id, 0), copy.deepcopy(self._current.get(rule_id)))

    async def list_rules(self) -> list[StoredRule]:
        self._check()
        return [copy.deepcopy(r) for r in self._current.values()]

    async def versions(self) -> dict[str, int]:
        self._check()
        return dict(self._versions)

    async def history(self, rule_id: str) -> list[HistoryEntry]:
        self._check()
        return list(self._history.get(rule_id, []))

    async def commit(self, changes: Sequence[Change], max_rules: int) -> None:
        self._check()
        delta = 0
        for change in changes:
            current = self._versions.get(change.rule_id, 0)
            if current != change.expected_version:
                raise VersionConflictError(change.rule_id, current)
            exists = change.rule_id in self._current
            if change.record is not None and not exists:
                delta += 1
            elif change.record is None and exists:
                delta -= 1
        if delta > 0 and len(self._current) + delta > max_rules:
            raise RuleLimitError(len(self._current), max_rules)
        for change in changes:
            self._versions[change.rule_id] = change.expected_version + 1
            if change.record is None:
                self._current.pop(change.rule_id, None)
            else:
                self._current[change.rule_id] = copy.deepcopy(change.record)
            self._history.setdefault(change.rule_id, []).append(change.entry)
        await asyncio.sleep(0)

    async def published_versions(self) -> dict[str, int]:
        self._check()
        return dict(self._published)

    async def mark_published(self, rule_id: str, version: int) -> None:
        self._check()
        if version > self._published.get(rule_id, 0):
            self._published[rule_id] = version

    async def acquire_lock(self, rule_id: str, ttl_s: float) -> str | None:
        self._check()
        now = time.monotonic()
        held = self._locks.get(rule_id)
        if held is not None and held[1] > now:
            return None
        token = secrets.token_hex(8)
        self._locks[rule_id] = (token, now + ttl_s)
        return token

    async def finish_publish(self, rule_id: str, token: str, version: int) -> bool:
        held = self._locks.get(rule_id)
        ours = held is not None and held[0] == token and held[1] > time.monotonic()
        await self.mark_published(rule_id, version)
        if ours:
            del self._locks[rule_id]
        return ours

    async def release_lock(self, rule_id: str, token: str) -> None:
        held = self._locks.get(rule_id)
        if held is not None and held[0] == token:
            del self._locks[rule_id]

    async def ping(self) -> None:
        self._check()
