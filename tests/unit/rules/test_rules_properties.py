"""Property: no rule set that passes validation can make evaluation crash."""

from __future__ import annotations

import copy
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rules_helpers import patches_the_engine

from common.rules import RuleEngine, validate_ruleset
from common.rules.compiled import Group
from common.rules.conditions import CompiledCondition
from common.schema.rule import OPERATORS, SEVERITIES

FIELDS = [
    "message",
    "process.name",
    "process.pid",
    "log.level",
    "tags",
    "user.name",
    "event.dataset",
    "a.b.c",
]
field = st.sampled_from(FIELDS)
scalar = st.one_of(
    st.text(max_size=8),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
)
pattern = st.sampled_from(["^a", "b+$", r"\d+", "(?P<g>x)", "(?i)user", "[", "(a)\\1", "", ".*"])


@st.composite
def leaf(draw: Any) -> dict[str, Any]:
    op = draw(st.sampled_from(OPERATORS))
    cond: dict[str, Any] = {"field": draw(field), "op": op}
    if op in ("gt", "gte", "lt", "lte"):
        cond["value"] = draw(st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6), scalar))
    elif op == "in":
        cond["value"] = draw(st.lists(scalar, min_size=0, max_size=4))
    elif op == "matches":
        cond["value"] = draw(pattern)
    elif op == "exists":
        if draw(st.booleans()):
            cond["value"] = draw(st.booleans())
    else:
        cond["value"] = draw(scalar)
    return cond


condition = st.recursive(
    leaf(),
    lambda inner: st.one_of(
        st.fixed_dictionaries({"all": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"any": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"not": inner}),
    ),
    max_leaves=6,
)
action = st.one_of(
    st.fixed_dictionaries({"action": st.just("set"), "field": field, "value": scalar}),
    st.fixed_dictionaries({"action": st.just("remove"), "field": field}),
    st.fixed_dictionaries({"action": st.just("rename"), "field": field, "to": field}),
    st.fixed_dictionaries({"action": st.just("tag"), "value": st.text(min_size=1, max_size=5)}),
    st.fixed_dictionaries(
        {
            "action": st.just("extract"),
            "field": field,
            "pattern": st.just("(?P<g>[a-z]+)"),
            "into": st.just({"g": "x.y"}),
        }
    ),
    st.fixed_dictionaries({"action": st.just("route"), "dataset": st.sampled_from(["a", "b.c", "Bad"])}),
    st.fixed_dictionaries({"action": st.just("mask"), "field": field, "pattern": pattern}),
    st.just({"action": "drop"}),
    st.fixed_dictionaries(
        {
            "action": st.just("alert"),
            "severity": st.sampled_from(SEVERITIES),
            "message": st.just("{message} {user.name} {alert.count}"),
        },
        optional={
            "threshold": st.fixed_dictionaries(
                {"count": st.integers(1, 3), "window": st.sampled_from([1, "1m"])},
                optional={"group_by": st.lists(field, max_size=2)},
            )
        },
    ),
)
rule = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["a", "b", "c", "d"]),
        "when": condition,
        "then": st.lists(action, min_size=1, max_size=3),
    },
    optional={"priority": st.integers(-5, 5), "enabled": st.booleans()},
)
value = st.one_of(
    scalar, st.none(), st.lists(scalar, max_size=3), st.dictionaries(st.text(max_size=3), scalar, max_size=2)
)
record = st.fixed_dictionaries(
    {},
    optional={
        "message": st.one_of(st.text(max_size=30), value),
        "process": st.one_of(st.fixed_dictionaries({}, optional={"name": value, "pid": value}), value),
        "log": st.fixed_dictionaries({}, optional={"level": value}),
        "tags": value,
        "user": st.one_of(value, st.fixed_dictionaries({}, optional={"name": value})),
        "event": st.fixed_dictionaries(
            {}, optional={"dataset": st.one_of(st.sampled_from(["a", "b"]), value)}
        ),
        "@timestamp": st.one_of(st.just("2024-01-01T00:00:00Z"), st.text(max_size=5), value),
    },
)


@patches_the_engine
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(rule, min_size=1, max_size=4), records=st.lists(record, max_size=6))
def test_valid_rule_sets_never_crash_evaluation(
    engine: RuleEngine, rules: list[dict[str, Any]], records: list[dict[str, Any]]
) -> None:
    assume(not validate_ruleset(rules))
    engine.replace_all(rules)
    unscreened_input = copy.deepcopy(records)
    results = engine.apply_batch(records)
    assert len(results) == len(records)
    for result in results:
        assert result.dropped == (result.dropped_by is not None)
        assert set(result.hits) <= {r["id"] for r in rules}
    # The pre-filter (the dataset index, the candidates' cheap checks, the facts' necessary
    # conditions) is only a shortcut: with every condition of a stage posted for every record,
    # durable-rules alone decides, and the outcome is the same.
    with (
        patch.object(CompiledCondition, "datasets", property(lambda self: None)),
        patch.object(
            Group, "select", lambda self, records, indices, shared=None: [(c, indices) for c in self.all]
        ),
        patch.object(CompiledCondition, "fact", CompiledCondition.full_fact),
    ):
        engine.replace_all(rules)  # re-plans without the dataset index
        unscreened = engine.apply_batch(unscreened_input)
    assert [(r.hits, r.dropped, r.record) for r in unscreened] == [
        (r.hits, r.dropped, r.record) for r in results
    ]
