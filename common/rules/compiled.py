"""A validated rule compiled for evaluation, and the evaluation plan of a whole rule set."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from common.rules.actions import CompiledAction, compile_action
from common.rules.conditions import CompiledCondition, compile_condition, field_getter


@dataclass(frozen=True, eq=False)
class CompiledRule:
    id: str
    priority: int
    source: dict[str, Any]
    condition: CompiledCondition
    actions: tuple[CompiledAction, ...]
    digest: str  # the canonical JSON of the rule: unchanged rules are not recompiled on a swap

    @functools.cached_property
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


def _prefixes(path: str) -> list[str]:
    """``"a.b.c"`` -> ``["a", "a.b", "a.b.c"]``."""
    parts = path.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


class Screen:
    """One RE2 set over a field: which rules' first required predicate matches, in one pass.

    A rule whose screening pattern does not match a string value cannot match the record, so its
    fact is never built; with many rules per dataset this replaces one regex search per rule by
    one set match per record.
    """

    def __init__(self, path: str, patterns: list[str]) -> None:
        self.get = field_getter(path)
        regex_set = re2.Set.SearchSet(_screen_options())
        for pattern in patterns:
            regex_set.Add(pattern)
        regex_set.Compile()
        self._set = regex_set

    def matched(self, record: Mapping[str, Any]) -> frozenset[int] | None:
        """Indices of matching patterns, or None when the value is not a string (cannot screen)."""
        value = self.get(record)
        if type(value) is not str:
            return None
        return frozenset(self._set.Match(value) or ())


def _screen_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


@dataclass(frozen=True)
class Group:
    """The candidate rules for one dataset (or for any dataset), in application order."""

    rules: tuple[CompiledRule, ...]
    screens: tuple[Screen, ...]
    # Per rule: (screen index, pattern index) when the rule can be screened, else None.
    checks: tuple[tuple[int, int] | None, ...]

    @classmethod
    def build(cls, rules: Iterable[CompiledRule]) -> Group:
        ordered = tuple(rules)
        patterns: dict[str, list[str]] = {}
        positions: list[tuple[str, int] | None] = []
        for rule in ordered:
            screen = rule.condition.screen
            if screen is None:
                positions.append(None)
                continue
            path, regex = screen
            patterns.setdefault(path, []).append(regex)
            positions.append((path, len(patterns[path]) - 1))
        screens: list[Screen] = []
        index_of: dict[str, int] = {}
        for path, regexes in patterns.items():
            try:
                screens.append(Screen(path, regexes))
            except Exception:  # a set RE2 refuses (e.g. too large) just means no screening
                continue
            index_of[path] = len(screens) - 1
        checks = tuple(
            (index_of[p[0]], p[1]) if p is not None and p[0] in index_of else None for p in positions
        )
        return cls(ordered, tuple(screens), checks)

    def candidates(self, record: Mapping[str, Any]) -> Sequence[CompiledRule]:
        if not self.screens:
            return self.rules
        matched = [screen.matched(record) for screen in self.screens]
        return [
            rule
            for rule, check in zip(self.rules, self.checks, strict=True)
            if check is None or (hits := matched[check[0]]) is None or check[1] in hits
        ]


@dataclass(frozen=True)
class Stage:
    """Rules whose conditions can all be decided on the same version of a record.

    Rules that only apply to some ``event.dataset`` values are indexed by dataset; each dataset's
    group also holds the rules that apply everywhere, so one record consults one group.
    """

    by_dataset: Mapping[str, Group]
    everywhere: Group

    def group(self, dataset: Any) -> Group:
        if isinstance(dataset, str):
            return self.by_dataset.get(dataset, self.everywhere)
        return self.everywhere


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
    # Latest stage that wrote a path exactly, and that wrote anything strictly below a path: a write
    # to "user" or to "user.name.first" both affect a read of "user.name".
    written: dict[str, int] = {}
    written_below: dict[str, int] = {}
    for rule in ordered:
        stage = 0
        for read in rule.condition.reads:
            for prefix in _prefixes(read):
                if prefix in written:
                    stage = max(stage, written[prefix] + 1)
            if read in written_below:
                stage = max(stage, written_below[read] + 1)
        stage_of[rule.id] = stage
        for path in rule.writes:
            prefixes = _prefixes(path)
            written[path] = max(written.get(path, -1), stage)
            for prefix in prefixes[:-1]:
                written_below[prefix] = max(written_below.get(prefix, -1), stage)
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
        groups = {
            dataset: Group.build(sorted([*indexed, *everywhere], key=lambda r: (-r.priority, r.id)))
            for dataset, indexed in by_dataset.items()
        }
        stages.append(Stage(groups, Group.build(everywhere)))
    return Plan(ordered, tuple(stages), {r.id: i for i, r in enumerate(ordered)})
