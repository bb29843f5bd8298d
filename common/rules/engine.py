"""The rule engine: holds the active rule set, swaps it atomically, applies it to batches.

Conditions are decided by durable-rules in the engine host process (see ``host.py``): per batch,
each candidate rule's facts go to its ruleset in one ``assert_events`` (post_batch) call, all
stages in one host round trip (``decide.py``), and the engine answers which records matched.
Actions then run here, in rule order.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from common.rules.alerts import build_alert, event_time
from common.rules.compiled import CompiledRule, Plan, build_plan, compile_rule, rule_digest
from common.rules.decide import Decisions, changed_facts, post, prepare
from common.rules.host_client import EngineHost, RulesetRefused
from common.rules.options import RuleEngineOptions
from common.rules.threshold import InMemoryThresholds, threshold_key
from common.rules.validate import RuleError, RuleValidationError, validate_rule, validate_ruleset
from common.schema.ecs import EcsRecord, get_field
from common.schema.rule import MAX_RULES

# mypyc sets __file__ to the extension module it built.
_COMPILED: Final = not __file__.endswith(".py")


@dataclass(frozen=True)
class ThresholdHit:
    """A match of a threshold alert, for a caller that keeps the counters itself (the Flink job).

    Key the stream by ``key``, feed ``timestamp`` to the ``ThresholdCounter`` in keyed state
    (created with ``count``/``window_seconds``), and when ``observe`` returns True emit
    ``alert(...)``.
    """

    key: str
    rule_id: str
    count: int
    window_seconds: float
    group: dict[str, Any]
    timestamp: float
    action: dict[str, Any]
    record: EcsRecord

    def __reduce__(self) -> tuple[Any, ...]:
        # The job pickles hits between operators. Compiled (deploy/native.py), the class has no
        # __dict__, and default unpickling would set each field through the frozen __setattr__.
        return (
            ThresholdHit,
            (
                self.key,
                self.rule_id,
                self.count,
                self.window_seconds,
                self.group,
                self.timestamp,
                self.action,
                self.record,
            ),
        )

    def alert(self) -> EcsRecord:
        return build_alert(
            rule_id=self.rule_id,
            action=self.action,
            record=self.record,
            count=self.count,
            window_seconds=self.window_seconds,
            group=self.group,
        )


class RuleResult:
    """What the rules did to one record (the record itself is changed in place).

    One is built per record of every batch, so it is a plain slotted class rather than a
    dataclass, whose default factories cost about half of that again; same constructor, equality
    and repr.
    """

    __slots__ = ("alerts", "dropped", "dropped_by", "hits", "record", "threshold_hits")

    def __init__(
        self,
        record: EcsRecord,
        dropped: bool = False,
        dropped_by: str | None = None,
        hits: list[str] | None = None,
        alerts: list[EcsRecord] | None = None,
        threshold_hits: list[ThresholdHit] | None = None,
    ) -> None:
        self.record = record
        self.dropped = dropped
        self.dropped_by = dropped_by
        self.hits: list[str] = [] if hits is None else hits
        self.alerts: list[EcsRecord] = [] if alerts is None else alerts
        self.threshold_hits: list[ThresholdHit] = [] if threshold_hits is None else threshold_hits

    @classmethod
    def fresh(cls, records: Sequence[EcsRecord]) -> list[RuleResult]:
        """``[RuleResult(r) for r in records]``.

        As pure Python, without a Python ``__init__`` call per record (which costs more than the
        rest of building one). Compiled (deploy/native.py), the constructor is a C call and
        ``object.__new__`` refuses the class.
        """
        if _COMPILED:
            return [cls(record) for record in records]
        new = object.__new__
        out: list[RuleResult] = []
        for record in records:
            result = new(cls)
            result.record, result.dropped, result.dropped_by = record, False, None
            result.hits, result.alerts, result.threshold_hits = [], [], []
            out.append(result)
        return out

    def _fields(self) -> tuple[Any, ...]:
        return (self.record, self.dropped, self.dropped_by, self.hits, self.alerts, self.threshold_hits)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, RuleResult)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return (
            f"RuleResult(record={self.record!r}, dropped={self.dropped!r}, "
            f"dropped_by={self.dropped_by!r}, hits={self.hits!r}, alerts={self.alerts!r}, "
            f"threshold_hits={self.threshold_hits!r})"
        )


class RuleEngine:
    """Active rules, compiled and registered with durable-rules.

    ``count_thresholds=True`` (the default, used by the dry run) counts threshold alerts in memory
    and puts fired alerts in ``RuleResult.alerts``; with False, threshold matches are returned as
    ``RuleResult.threshold_hits`` for the caller's keyed state.
    """

    def __init__(
        self,
        options: RuleEngineOptions | None = None,
        *,
        count_thresholds: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._host = EngineHost(options)
        self._rules: dict[str, dict[str, Any]] = {}
        self._compiled: dict[str, CompiledRule] = {}
        self._plan: Plan = build_plan(())
        self._count_thresholds = count_thresholds
        self._thresholds = InMemoryThresholds()
        self._clock = clock
        self._fact_ids = itertools.count(1)
        self._decisions = Decisions()

    # -- the rule set -------------------------------------------------------------------------

    @property
    def rules(self) -> Mapping[str, dict[str, Any]]:
        return MappingProxyType(self._rules)

    @property
    def host(self) -> EngineHost:
        return self._host

    def upsert(self, rule: Mapping[str, Any]) -> None:
        errors = validate_rule(rule)
        if errors:
            raise RuleValidationError(errors)
        rules = dict(self._rules)
        rules[rule["id"]] = json.loads(rule_digest(rule))
        if len(rules) > MAX_RULES:
            raise RuleValidationError([RuleError("$", f"the engine holds at most {MAX_RULES} rules")])
        self._activate(rules)

    def remove(self, rule_id: str) -> None:
        if rule_id in self._rules:
            rules = dict(self._rules)
            del rules[rule_id]
            self._activate(rules)

    def replace_all(self, rules: Sequence[Mapping[str, Any]]) -> None:
        errors = validate_ruleset(list(rules))
        if errors:
            raise RuleValidationError(errors)
        index = {r["id"]: i for i, r in enumerate(rules)}
        self._activate(
            {r["id"]: json.loads(rule_digest(r)) for r in rules}, lambda rule_id: f"$[{index[rule_id]}]"
        )

    def _activate(
        self, rules: dict[str, dict[str, Any]], path_of: Callable[[str], str] = lambda _: "$"
    ) -> None:
        # Build everything first; only the final assignments change what apply_batch sees, so a
        # failure anywhere leaves the previous rule set active.
        compiled: dict[str, CompiledRule] = {}
        for rule_id, rule in rules.items():
            if not rule.get("enabled", True):
                continue
            digest = rule_digest(rule)
            previous = self._compiled.get(rule_id)
            compiled[rule_id] = (
                previous if previous and previous.digest == digest else compile_rule(rule, digest)
            )
        plan = build_plan(compiled.values())
        wanted = plan.ruleset_definitions
        try:
            self._host.ensure(wanted)
        except RulesetRefused as refused:
            raise RuleValidationError(
                [
                    RuleError(
                        f"{path_of(rule.id)}.when", f"durable-rules cannot compile this condition: {why}"
                    )
                    for rule in plan.ordered
                    for name, why in refused.reasons.items()
                    if rule.condition.ruleset_name == name
                ]
            ) from None
        stale = set(self._plan.ruleset_definitions) - set(wanted)
        self._rules, self._compiled, self._plan = rules, compiled, plan
        self._decisions.clear()
        if stale:
            self._host.release(stale)

    def close(self) -> None:
        self._host.close()

    def __enter__(self) -> RuleEngine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- evaluation ---------------------------------------------------------------------------

    def apply_batch(self, records: list[EcsRecord]) -> list[RuleResult]:
        plan = self._plan  # one consistent rule set for the whole batch, even if swapped meanwhile
        results = RuleResult.fresh(records)
        if not records or not plan.stages:
            return results
        # Every stage decided in one round trip on the records as they are; later stages re-check
        # only the records an earlier stage's actions ran on (see decide.py).
        postings = prepare(plan.stages, records, list(range(len(records))))
        post(self._host.evaluate, postings, self._fact_ids, self._decisions)
        order, affects = plan.order, plan.affects
        # Per record some rule matched: the stages that may read what its rules wrote.
        affected: dict[int, set[int]] = {}
        dropped: set[int] = set()
        for s, (stage, posting) in enumerate(zip(plan.stages, postings, strict=True)):
            if len(dropped) == len(records):
                break
            touched = [i for i in sorted(affected) if s in affected[i] and i not in dropped]
            differ, again = changed_facts(posting, stage, records, touched) if touched else (set(), None)
            if again is not None and again.entries:
                post(self._host.evaluate, [again], self._fact_ids, self._decisions)
            matched = posting.matched(differ)
            if again is not None and again.entries:
                matched.update(again.matched())
            for i in sorted(matched):  # records in order, as rules in order: alerts count in order
                if i in dropped:
                    continue
                rules = matched[i]
                rules.sort(key=lambda r: order[r.id])
                result = results[i]
                self._apply(result, rules)
                stages = affected.get(i)
                if stages is None:
                    stages = affected[i] = set()
                for rule in rules:
                    stages |= affects[rule.id]
                if result.dropped:
                    dropped.add(i)
        return results

    def _apply(self, result: RuleResult, rules: list[CompiledRule]) -> None:
        record = result.record
        for rule in rules:
            result.hits.append(rule.id)
            holder = record.get("rule")
            if not isinstance(holder, dict):
                holder = record["rule"] = {}
            ids = holder.get("id")
            if not isinstance(ids, list):
                ids = holder["id"] = [] if ids is None else [ids]
            ids.append(rule.id)
            for action in rule.actions:
                if action.apply is not None:
                    action.apply(record)
                elif action.alert is not None:
                    self._alert(result, rule.id, action.alert)
                else:  # drop
                    result.dropped, result.dropped_by = True, rule.id
                    return

    def _alert(self, result: RuleResult, rule_id: str, spec: Any) -> None:
        record = result.record
        if spec.count is None:
            result.alerts.append(build_alert(rule_id=rule_id, action=spec.action, record=record))
            return
        group = {path: get_field(record, path) for path in spec.group_by}
        hit = ThresholdHit(
            key=threshold_key(rule_id, list(group.values())),
            rule_id=rule_id,
            count=spec.count,
            window_seconds=spec.window_seconds,
            group=group,
            timestamp=event_time(record, self._clock()),
            action=spec.action,
            record=record,
        )
        if not self._count_thresholds:
            result.threshold_hits.append(hit)
        elif self._thresholds.observe(hit.key, hit.count, hit.window_seconds, hit.timestamp):
            result.alerts.append(hit.alert())
