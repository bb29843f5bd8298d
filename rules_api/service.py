"""The API's operations on rules, built once on the store's read + atomic-commit primitives.

Each write reads the rule's state, builds the new version (with its history entry and diff), and
commits with compare-and-set on the version it read. With a stated version (HTTP's ``If-Match``,
translated by the router into a ``Precondition``) a lost race is the client's 412; without one
(PATCH, DELETE, rollback without a header) the operation simply re-reads and retries, which is
safe because it re-applies the same intent to the newer version. After a commit the change is
published; if Kafka does not confirm, the change stays stored and the caller learns it is pending
(503), while the reconciler publishes it later.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from common.clock import now_iso
from rules_api import rules_core
from rules_api.broadcast import Broadcaster
from rules_api.diff import diff
from rules_api.publisher import PublishError
from rules_api.store.base import (
    Change,
    HistoryEntry,
    NotFoundError,
    RuleExistsError,
    RuleState,
    RuleStore,
    StoredRule,
    VersionConflictError,
)

_RETRIES = 8


class ValidationFailedError(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))
        self.errors = errors


class PreconditionRequiredError(ValueError):
    """A replace without If-Match: the client must say which version it is replacing."""


class PreconditionFailedError(ValueError):
    def __init__(self, rule_id: str, current_version: int) -> None:
        super().__init__(f"rule {rule_id!r} is at version {current_version}, not the one in If-Match")
        self.rule_id = rule_id
        self.current_version = current_version


class PublishPendingError(RuntimeError):
    """The change is stored (so it will not be lost) but Kafka has not confirmed it yet."""

    def __init__(self, versions: dict[str, int], reason: str) -> None:
        super().__init__(reason)
        self.versions = versions
        self.reason = reason


@dataclass(frozen=True)
class Precondition:
    """Which current versions a write may apply to (HTTP's If-Match, translated by the router).

    ``versions`` None: any version will do. ``stated`` False: the caller named no version at all,
    which a replace refuses (it must say what it is replacing); other writes then re-read and retry.
    """

    versions: frozenset[int] | None = None
    stated: bool = False

    def accepts(self, version: int) -> bool:
        return self.versions is None or version in self.versions


ANY_VERSION = Precondition()


def _condition_mentions_dataset(node: Any, dataset: str) -> bool:
    if isinstance(node, dict):
        if node.get("field") == "event.dataset":
            value = node.get("value")
            if value == dataset or (isinstance(value, list) and dataset in value):
                return True
        return any(_condition_mentions_dataset(v, dataset) for v in node.values())
    if isinstance(node, list):
        return any(_condition_mentions_dataset(v, dataset) for v in node)
    return False


def rule_tags(rule: dict[str, Any]) -> set[str]:
    """A rule's tags: its own ``tags`` metadata plus the values of its ``tag`` actions."""
    tags = {t for t in rule.get("tags") or [] if isinstance(t, str)}
    for action in rule.get("then") or []:
        if (
            isinstance(action, dict)
            and action.get("action") == "tag"
            and isinstance(action.get("value"), str)
        ):
            tags.add(action["value"])
    return tags


def rule_matches_dataset(rule: dict[str, Any], dataset: str) -> bool:
    """Whether a rule concerns a dataset: one it declares, tests in ``when`` or routes to."""
    if rule.get("dataset") == dataset:
        return True
    for action in rule.get("then") or []:
        if isinstance(action, dict) and action.get("action") == "route" and action.get("dataset") == dataset:
            return True
    return _condition_mentions_dataset(rule.get("when"), dataset)


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)


class RulesService:
    def __init__(
        self,
        store: RuleStore,
        broadcaster: Broadcaster,
        max_rules: int,
        clock: Callable[[], str] = now_iso,
    ) -> None:
        self.store = store
        self.broadcaster = broadcaster
        self.max_rules = max_rules
        self._clock = clock

    # --- reads -------------------------------------------------------------------------------

    async def list_rules(
        self, enabled: bool | None = None, tag: str | None = None, dataset: str | None = None
    ) -> list[StoredRule]:
        rules = sorted(await self.store.list_rules(), key=lambda r: r.id)
        if enabled is not None:
            rules = [r for r in rules if bool(r.rule.get("enabled", True)) is enabled]
        if tag is not None:
            rules = [r for r in rules if tag in rule_tags(r.rule)]
        if dataset is not None:
            rules = [r for r in rules if rule_matches_dataset(r.rule, dataset)]
        return rules

    async def get(self, rule_id: str) -> StoredRule:
        state = await self.store.state(rule_id)
        if state.current is None:
            raise NotFoundError(rule_id)
        return state.current

    async def history(self, rule_id: str) -> list[HistoryEntry]:
        entries = await self.store.history(rule_id)
        if not entries:
            raise NotFoundError(rule_id)
        return entries

    # --- validation --------------------------------------------------------------------------

    @staticmethod
    def validate(rule: object) -> dict[str, Any]:
        errors = rules_core.validate_rule(rule)
        if errors:
            raise ValidationFailedError(errors)
        assert isinstance(rule, dict)  # the core rejects anything that is not an object
        normalised = copy.deepcopy(rule)
        # The wire format always carries "enabled", so the job never has to guess a default.
        normalised.setdefault("enabled", True)
        return normalised

    # --- writes ------------------------------------------------------------------------------

    def _new_version(
        self,
        state: RuleState,
        rule_id: str,
        rule: dict[str, Any] | None,
        actor: str,
        action: str,
        rolled_back_from: int | None = None,
    ) -> Change:
        now = self._clock()
        version = state.version + 1
        previous = state.current.rule if state.current else None
        record = StoredRule(rule_id, version, now, actor, rule) if rule is not None else None
        entry = HistoryEntry(version, action, now, actor, rule, diff(previous, rule), rolled_back_from)
        return Change(rule_id, state.version, record, entry)

    async def _publish(self, versions: dict[str, int]) -> None:
        failures: list[str] = []

        async def one(rule_id: str) -> None:
            try:
                await self.broadcaster.publish(rule_id)
            except PublishError as exc:
                failures.append(str(exc))

        await asyncio.gather(*(one(rule_id) for rule_id in versions))
        if failures:
            raise PublishPendingError(versions, failures[0])

    async def create(self, rule: object, actor: str) -> StoredRule:
        valid = self.validate(rule)
        rule_id = valid["id"]
        state = await self.store.state(rule_id)
        if state.current is not None:
            raise RuleExistsError(rule_id, state.current.version)
        change = self._new_version(state, rule_id, valid, actor, "create")
        try:
            await self.store.commit([change], self.max_rules)
        except VersionConflictError as exc:
            # Someone created (or deleted) it between our read and our commit.
            raise RuleExistsError(rule_id, exc.current_version) from None
        assert change.record is not None
        await self._publish({rule_id: change.record.version})
        return change.record

    async def replace(
        self, rule_id: str, rule: object, actor: str, precondition: Precondition = ANY_VERSION
    ) -> StoredRule:
        if not precondition.stated:
            raise PreconditionRequiredError("PUT needs an If-Match header holding the version you read")
        if isinstance(rule, dict) and "id" not in rule:
            rule = {"id": rule_id, **rule}
        valid = self.validate(rule)
        if valid["id"] != rule_id:
            raise ValidationFailedError(
                [{"path": "$.id", "message": f"body id {valid['id']!r} differs from the URL's {rule_id!r}"}]
            )
        return await self._update(rule_id, actor, precondition, lambda _current: (valid, "update"))

    async def set_enabled(
        self, rule_id: str, enabled: bool, actor: str, precondition: Precondition = ANY_VERSION
    ) -> StoredRule:
        def flip(current: dict[str, Any]) -> tuple[dict[str, Any], str]:
            return {**current, "enabled": enabled}, "enable" if enabled else "disable"

        return await self._update(rule_id, actor, precondition, flip)

    async def rollback(
        self, rule_id: str, version: int, actor: str, precondition: Precondition = ANY_VERSION
    ) -> StoredRule:
        entries = await self.history(rule_id)
        target = next((e for e in entries if e.version == version), None)
        if target is None:
            raise NotFoundError(f"{rule_id} version {version}")
        if target.rule is None:
            raise ValidationFailedError(
                [{"path": "$.version", "message": f"version {version} is a delete; roll back to a rule"}]
            )
        # Re-validate: the rules core may have tightened since that version was stored.
        valid = self.validate(target.rule)
        return await self._update(
            rule_id,
            actor,
            precondition,
            lambda _current: (valid, "rollback"),
            allow_deleted=True,
            source=version,
        )

    async def _update(
        self,
        rule_id: str,
        actor: str,
        precondition: Precondition,
        build: Callable[[dict[str, Any]], tuple[dict[str, Any], str]],
        allow_deleted: bool = False,
        source: int | None = None,
    ) -> StoredRule:
        for _ in range(_RETRIES):
            state = await self.store.state(rule_id)
            if state.current is None and not (allow_deleted and state.version > 0):
                raise NotFoundError(rule_id)
            if not precondition.accepts(state.version):
                raise PreconditionFailedError(rule_id, state.version)
            current_rule = state.current.rule if state.current else {}
            new_rule, action = build(current_rule)
            if state.current is not None and new_rule == state.current.rule:
                # No new version for a no-op; publish only if this version is still pending, so that
                # a 2xx keeps meaning "in Kafka" without re-sending the rule on every idempotent apply.
                if (await self.store.published_versions()).get(rule_id, 0) < state.version:
                    await self._publish({rule_id: state.version})
                return state.current
            change = self._new_version(state, rule_id, new_rule, actor, action, source)
            try:
                await self.store.commit([change], self.max_rules)
            except VersionConflictError as exc:
                if precondition.versions is not None:
                    raise PreconditionFailedError(rule_id, exc.current_version) from None
                continue
            assert change.record is not None
            await self._publish({rule_id: change.record.version})
            return change.record
        raise PreconditionFailedError(rule_id, (await self.store.state(rule_id)).version)

    async def delete(self, rule_id: str, actor: str, precondition: Precondition = ANY_VERSION) -> int:
        for _ in range(_RETRIES):
            state = await self.store.state(rule_id)
            if state.current is None:
                raise NotFoundError(rule_id)
            if not precondition.accepts(state.version):
                raise PreconditionFailedError(rule_id, state.version)
            change = self._new_version(state, rule_id, None, actor, "delete")
            try:
                await self.store.commit([change], self.max_rules)
            except VersionConflictError as exc:
                if precondition.versions is not None:
                    raise PreconditionFailedError(rule_id, exc.current_version) from None
                continue
            await self._publish({rule_id: state.version + 1})
            return state.version + 1
        raise PreconditionFailedError(rule_id, (await self.store.state(rule_id)).version)

    async def import_rules(self, rules: Sequence[object], actor: str, replace: bool) -> ImportResult:
        errors = rules_core.validate_ruleset(list(rules), under="$.rules")
        if errors:
            raise ValidationFailedError(errors)
        valid = [self.validate(rule) for rule in rules]
        incoming = {rule["id"]: rule for rule in valid}
        for _ in range(_RETRIES):
            result = ImportResult()
            changes: list[Change] = []
            known = await self.store.versions()
            ids = set(incoming) | (set(known) if replace else set())
            for rule_id in sorted(ids):
                state = await self.store.state(rule_id)
                new_rule = incoming.get(rule_id)
                if new_rule is None:
                    if state.current is not None:
                        changes.append(self._new_version(state, rule_id, None, actor, "delete"))
                        result.deleted.append(rule_id)
                        result.versions[rule_id] = state.version + 1
                    continue
                if state.current is not None and state.current.rule == new_rule:
                    result.unchanged.append(rule_id)
                    result.versions[rule_id] = state.version
                    continue
                (result.updated if state.current is not None else result.created).append(rule_id)
                changes.append(self._new_version(state, rule_id, new_rule, actor, "import"))
                result.versions[rule_id] = state.version + 1
            try:
                await self.store.commit(changes, self.max_rules)
            except VersionConflictError:
                continue  # a concurrent edit moved a rule on; rebuild the whole import against it
            await self._publish({c.rule_id: c.entry.version for c in changes})
            return result
        raise PreconditionFailedError("*import*", 0)
