"""A validated rule compiled for evaluation, and the evaluation plan of a whole rule set."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from common.rules.actions import CompiledAction, compile_action
from common.rules.conditions import CompiledCondition, compile_condition


@dataclass(frozen=True)
class CompiledRule:
    id: str
    priority: int
    source: dict[str, Any]
    condition: CompiledCondition
    actions: tuple[CompiledAction, ...]
    digest: str  # the canonical JSON of the rule: unchanged rules are not recompiled on a swap

    @property
    def writes(self) -> frozenset[str]:
        return frozenset().union(*(a.writes for a in self.actions))


def rule_digest(rule: Mapping[str, Any]) -> str:
    return json.dumps(rule, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compile_rule(rule: Mapping[str, Any], digest: str | None = None) -> CompiledRule:
    """Compile a rule that has already passed ``validate_rule``."""
    source = json.loads(digest) if digest is not None else json.loads(rule_digest(rule))
    return CompiledRule(
        id=source["id"],
        priority=int(source.get("priority", 0)),
        source=source,
        condition=compile_condition(source["when"]),
        actions=tuple(compile_action(a) for a in source["then"]),
        digest=digest if digest is not None else rule_digest(rule),
    )


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


@dataclass(frozen=True)
class Stage:
    """Rules whose conditions can all be decided on the same version of a record.

    ``by_dataset`` indexes rules that only apply to some ``event.dataset`` values; ``everywhere``
    holds the rest. Both lists are in application order.
    """

    by_dataset: Mapping[str, tuple[CompiledRule, ...]]
    everywhere: tuple[CompiledRule, ...]

    def candidates(self, dataset: Any) -> tuple[CompiledRule, ...]:
        indexed = self.by_dataset.get(dataset, ()) if isinstance(dataset, str) else ()
        return indexed + self.everywhere if indexed else self.everywhere


@dataclass(frozen=True)
class Plan:
    """Active rules in application order, split into stages.

    Rules apply in order (higher priority first, then id). A rule whose condition reads a field an
    earlier rule writes must see that write, so it goes into a later stage, evaluated after the
    earlier stage's actions have run; everything else is decided in one engine round trip.
    """

    ordered: tuple[CompiledRule, ...]
    stages: tuple[Stage, ...]
    order: Mapping[str, int]

    @property
    def ruleset_definitions(self) -> dict[str, str]:
        return {r.condition.ruleset_name: r.condition.definition_json for r in self.ordered}


def build_plan(rules: Iterable[CompiledRule]) -> Plan:
    ordered = tuple(sorted(rules, key=lambda r: (-r.priority, r.id)))
    stage_of: dict[str, int] = {}
    for i, rule in enumerate(ordered):
        stage = 0
        for earlier in ordered[:i]:
            if any(_overlaps(w, r) for w in earlier.writes for r in rule.condition.reads):
                stage = max(stage, stage_of[earlier.id] + 1)
        stage_of[rule.id] = stage
    stages: list[Stage] = []
    for s in range(max(stage_of.values(), default=-1) + 1):
        members = [r for r in ordered if stage_of[r.id] == s]
        by_dataset: dict[str, list[CompiledRule]] = {}
        everywhere: list[CompiledRule] = []
        for rule in members:
            if rule.condition.datasets is None:
                everywhere.append(rule)
            else:
                for dataset in rule.condition.datasets:
                    by_dataset.setdefault(dataset, []).append(rule)
        stages.append(Stage({k: tuple(v) for k, v in by_dataset.items()}, tuple(everywhere)))
    return Plan(ordered, tuple(stages), {r.id: i for i, r in enumerate(ordered)})
