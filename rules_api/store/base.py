"""The storage interface every replica shares.

The store is the single source of truth for rules, their versions and their history. It offers
only primitives: reads, and one atomic ``commit`` of several changes that succeeds only if each
rule's version counter still equals the version the caller read (compare-and-set). Versions are
therefore minted by the shared store's atomicity, never by a replica's own state: two replicas
that read version 3 and both try to write version 4 cannot both succeed.

The operations the API exposes (create, replace, rollback, import, ...) are built on these
primitives in :mod:`rules_api.service`, once, for every implementation.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from common.schema.rules_topic import RuleVersion


class StoreUnavailableError(RuntimeError):
    """The store cannot be reached; the caller answers 503."""


class NotFoundError(LookupError):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"rule {rule_id!r} does not exist")
        self.rule_id = rule_id


class RuleExistsError(ValueError):
    def __init__(self, rule_id: str, version: int) -> None:
        super().__init__(f"rule {rule_id!r} already exists (version {version})")
        self.rule_id = rule_id
        self.version = version


class VersionConflictError(RuntimeError):
    """The rule's version moved on since the caller read it."""

    def __init__(self, rule_id: str, current_version: int) -> None:
        super().__init__(f"rule {rule_id!r} is now at version {current_version}")
        self.rule_id = rule_id
        self.current_version = current_version


class RuleLimitError(RuntimeError):
    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"the store holds {count} rules and the limit is {limit}")
        self.count = count
        self.limit = limit


# The store keeps each rule's current version exactly as the rules topic carries it.
StoredRule = RuleVersion


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    action: str  # create | update | enable | disable | delete | rollback | import
    updated_at: str
    updated_by: str
    rule: dict[str, Any] | None  # None for a delete
    diff: list[dict[str, Any]] = field(default_factory=list)
    rolled_back_from: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version,
            "action": self.action,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "rule": self.rule,
            "diff": self.diff,
        }
        if self.rolled_back_from is not None:
            out["rolled_back_from"] = self.rolled_back_from
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> HistoryEntry:
        return cls(
            version=int(obj["version"]),
            action=obj["action"],
            updated_at=obj["updated_at"],
            updated_by=obj["updated_by"],
            rule=obj.get("rule"),
            diff=list(obj.get("diff") or []),
            rolled_back_from=obj.get("rolled_back_from"),
        )


@dataclass(frozen=True)
class RuleState:
    """What the store knows of one id: its version counter (0 = never existed) and the current rule
    (None when it never existed or was deleted; the counter survives deletes so a re-created rule
    still gets a newer version than its tombstone)."""

    version: int
    current: StoredRule | None


@dataclass(frozen=True)
class Change:
    """One rule's part of an atomic commit: applies only if the counter still equals ``expected``."""

    rule_id: str
    expected_version: int
    record: StoredRule | None  # None = delete
    entry: HistoryEntry


class RuleStore(abc.ABC):
    @abc.abstractmethod
    async def state(self, rule_id: str) -> RuleState: ...

    @abc.abstractmethod
    async def list_rules(self) -> list[StoredRule]: ...

    @abc.abstractmethod
    async def versions(self) -> dict[str, int]:
        """Every id ever stored with its version counter (deleted ones included)."""

    @abc.abstractmethod
    async def history(self, rule_id: str) -> list[HistoryEntry]: ...

    @abc.abstractmethod
    async def commit(self, changes: Sequence[Change], max_rules: int) -> None:
        """Apply all changes or none. Raises VersionConflictError or RuleLimitError (the limit is only
        enforced when the commit would grow the number of rules)."""

    @abc.abstractmethod
    async def published_versions(self) -> dict[str, int]: ...

    @abc.abstractmethod
    async def mark_published(self, rule_id: str, version: int) -> None:
        """Record that ``version`` is durably in Kafka; never moves the mark backwards."""

    @abc.abstractmethod
    async def acquire_lock(self, rule_id: str, ttl_s: float) -> str | None:
        """Take the short per-rule publish lock; returns a token, or None if someone else holds it."""

    @abc.abstractmethod
    async def finish_publish(self, rule_id: str, token: str, version: int) -> bool:
        """After Kafka confirmed ``version``: advance the published mark and release the lock, in one
        step. Returns whether the lock was still ours (False: it expired during the publish)."""

    @abc.abstractmethod
    async def release_lock(self, rule_id: str, token: str) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailableError unless the store answers."""

    async def close(self) -> None:
        return None
