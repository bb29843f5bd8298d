"""Later stages are decided speculatively with the first: the outcome must be as if sequential."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from common.rules import RuleEngine, RuleResult
from common.rules.decide import post, prepare


def _rule(rule_id: str, priority: int, when: dict[str, Any], then: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": rule_id, "priority": priority, "when": when, "then": then}


RULES = [
    # Stage 0: writes what the later rules read (a field, the dataset, the message) or drops.
    _rule(
        "route",
        9,
        {"field": "message", "op": "contains", "value": "move"},
        [{"action": "route", "dataset": "b"}],
    ),
    _rule(
        "label",
        8,
        {"field": "message", "op": "contains", "value": "label"},
        [{"action": "set", "field": "labels.k", "value": "v"}],
    ),
    _rule(
        "mask",
        7,
        {"field": "message", "op": "contains", "value": "secret"},
        [{"action": "mask", "field": "message", "pattern": "secret", "replacement": "****"}],
    ),
    _rule("drop", 6, {"field": "message", "op": "contains", "value": "drop"}, [{"action": "drop"}]),
    # Later stages: conditions on what the rules above write.
    _rule(
        "in-b",
        0,
        {
            "all": [
                {"field": "event.dataset", "op": "eq", "value": "b"},
                {"field": "message", "op": "contains", "value": "x"},
            ]
        },
        [{"action": "tag", "value": "in-b"}],
    ),
    _rule(
        "in-a",
        0,
        {
            "all": [
                {"field": "event.dataset", "op": "eq", "value": "a"},
                {"field": "message", "op": "contains", "value": "x"},
            ]
        },
        [{"action": "tag", "value": "in-a"}],
    ),
    _rule("labelled", 0, {"field": "labels.k", "op": "eq", "value": "v"}, [{"action": "tag", "value": "l"}]),
    _rule("unlabelled", 0, {"not": {"field": "labels.k", "op": "exists"}}, [{"action": "tag", "value": "u"}]),
    _rule(
        "has-secret",
        0,
        {"field": "message", "op": "contains", "value": "secret"},
        [{"action": "tag", "value": "s"}],
    ),
    _rule(
        "masked",
        -1,
        {"field": "message", "op": "contains", "value": "****"},
        [{"action": "tag", "value": "m"}],
    ),
    _rule("any-tag", -2, {"field": "tags", "op": "exists"}, [{"action": "tag", "value": "tagged"}]),
]

RULES += [
    # "notice" writes nothing (an alert): only the engine's rule.id bookkeeping changes the record.
    # "never" never matches, but puts "saw-notice" in a later stage, where it must see that id.
    _rule(
        "notice",
        11,
        {"field": "message", "op": "eq", "value": "notice"},
        [{"action": "alert", "severity": "low", "message": "notice"}],
    ),
    _rule(
        "never",
        10,
        {"field": "message", "op": "contains", "value": "zzz"},
        [{"action": "set", "field": "labels.none", "value": 1}],
    ),
    _rule(
        "saw-notice",
        -3,
        {
            "any": [
                {"field": "labels.none", "op": "exists"},
                {"field": "rule.id", "op": "contains", "value": "notice"},
            ]
        },
        [{"action": "tag", "value": "saw-notice"}],
    ),
]

MESSAGES = ["x move", "x", "label x", "secret x", "drop x move", "move label secret x", "nothing", "notice"]


def _records() -> list[dict[str, Any]]:
    return [{"message": m, "event": {"dataset": "a"}} for m in MESSAGES]


def _outcome(results: list[RuleResult]) -> list[tuple[Any, ...]]:
    return [(r.dropped, r.dropped_by, r.hits, r.record) for r in results]


def _sequential(engine: RuleEngine, records: list[dict[str, Any]]) -> list[RuleResult]:
    """The reference: each stage decided in its own round trip, after the earlier stages' actions."""
    plan = engine._plan
    results = [RuleResult(r) for r in records]
    alive = list(range(len(records)))
    for stage in plan.stages:
        (posting,) = prepare([stage], records, alive)
        post(engine.host.evaluate, [posting], engine._fact_ids)
        matched = posting.matched()
        for i in alive:
            if i in matched:
                engine._apply(results[i], sorted(matched[i], key=lambda r: plan.order[r.id]))
        alive = [i for i in alive if not results[i].dropped]
    return results


def test_speculative_stages_match_sequential_ones(engine: RuleEngine) -> None:
    engine.replace_all(RULES)
    assert len(engine._plan.stages) >= 3
    speculative = _outcome(engine.apply_batch(_records()))
    assert speculative == _outcome(_sequential(engine, _records()))
    hits = {m: o[2] for m, o in zip(MESSAGES, speculative, strict=True)}
    assert hits["x move"] == ["route", "in-b", "unlabelled", "any-tag"]
    assert hits["x"] == ["in-a", "unlabelled", "any-tag"]
    assert hits["label x"] == ["label", "in-a", "labelled", "any-tag"]
    assert hits["secret x"] == ["mask", "in-a", "unlabelled", "masked", "any-tag"]
    assert hits["notice"] == ["notice", "unlabelled", "saw-notice", "any-tag"]
    assert hits["drop x move"] == ["route", "drop"]
    assert hits["nothing"] == ["unlabelled", "any-tag"]


def test_unchanged_facts_need_no_second_round_trip(engine: RuleEngine) -> None:
    engine.replace_all([r for r in RULES if r["id"] in ("route", "label", "in-b")])
    with patch.object(engine.host, "evaluate", wraps=engine.host.evaluate) as evaluate:
        # "label" ran, but what it wrote is not what "in-b" reads: its speculative answer holds.
        results = engine.apply_batch([{"message": "label x", "event": {"dataset": "a"}}])
        assert evaluate.call_count == 1
        assert results[0].hits == ["label"]
        # The route changed what "in-b" reads: that record is decided again.
        results = engine.apply_batch([{"message": "x move", "event": {"dataset": "a"}}])
        assert evaluate.call_count == 3
        assert results[0].hits == ["route", "in-b"]
