"""durable-rules' limit on a condition's and/or groups: validation predicts it, compiling respects it.

durable-rules refuses a ruleset whose pattern needs 16 or more and/or groups ("error code: 113").
Validation must refuse exactly those rules, so a rule the API accepts always loads in the job; the
compiler merges nested groups and factors negated ``in`` lists so that few rules get near it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from common.rules import RuleEngine, validate_rule
from common.rules.conditions import compile_condition, durable_groups
from common.schema.rule import MAX_CONDITION_GROUPS

GROUP_LIMIT_MESSAGE = "and/or groups in durable-rules"
FIELDS = ["message", "process.name", "process.pid", "log.level", "labels.a"]
scalar = st.one_of(
    st.sampled_from(["", "a", "1", "true", "warn"]),
    st.sampled_from([0, 1, 1.0, 2.5, -3]),
    st.booleans(),
)


@st.composite
def leaf(draw: Any) -> dict[str, Any]:
    op = draw(st.sampled_from(["eq", "ne", "in", "gt", "lte", "exists", "contains", "matches"]))
    cond: dict[str, Any] = {"field": draw(st.sampled_from(FIELDS)), "op": op}
    if op == "in":
        cond["value"] = draw(st.lists(scalar, min_size=1, max_size=5))
    elif op in ("gt", "lte"):
        cond["value"] = draw(st.sampled_from([0, 1, 2.5]))
    elif op == "contains":
        cond["value"] = draw(st.sampled_from(["a", "rr"]))
    elif op == "matches":
        cond["value"] = draw(st.sampled_from(["^a", "r+"]))
    elif op == "exists":
        cond["value"] = draw(st.booleans())
    else:
        cond["value"] = draw(scalar)
    return cond


def _with_combinators(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries({"all": st.lists(inner, min_size=1, max_size=4)}),
        st.fixed_dictionaries({"any": st.lists(inner, min_size=1, max_size=4)}),
        st.fixed_dictionaries({"not": inner}),
    )


# Large enough that a good share of conditions crosses the limit.
big_condition = st.recursive(leaf(), _with_combinators, max_leaves=24)
small_condition = st.recursive(leaf(), _with_combinators, max_leaves=6)


def _rule(when: dict[str, Any], rule_id: str = "r") -> dict[str, Any]:
    return {"id": rule_id, "when": when, "then": [{"action": "tag", "value": "hit"}]}


def _durable_accepts(when: dict[str, Any]) -> bool:
    import durable_rules_engine

    condition = compile_condition(when)
    try:
        handle = durable_rules_engine.create_ruleset(condition.ruleset_name, condition.definition_json)
    except Exception as refused:
        assert "error code: 113" in str(refused), refused
        return False
    durable_rules_engine.delete_ruleset(handle)
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(when=big_condition)
def test_validation_refuses_exactly_the_conditions_durable_rules_refuses(when: dict[str, Any]) -> None:
    errors = validate_rule(_rule(when))
    other = [e for e in errors if GROUP_LIMIT_MESSAGE not in e.message]
    assume(not other)
    refused_by_validation = bool(errors)
    event(f"refused by validation: {refused_by_validation}")
    assert refused_by_validation == (durable_groups(when) > MAX_CONDITION_GROUPS)
    assert _durable_accepts(when) != refused_by_validation


def _any_of(*conds: dict[str, Any]) -> dict[str, Any]:
    return {"any": list(conds)}


def test_the_limit_sits_between_fifteen_and_sixteen_groups() -> None:
    # The rule itself is one group; each any of two fields adds one: 1 + 14 = 15 fits, 16 does not.
    def pairs(n: int) -> dict[str, Any]:
        return {
            "all": [
                _any_of(
                    {"field": "labels.a", "op": "eq", "value": str(i)},
                    {"field": "labels.b", "op": "eq", "value": str(i)},
                )
                for i in range(n)
            ]
        }

    assert durable_groups(pairs(14)) == 15 and validate_rule(_rule(pairs(14))) == []
    assert _durable_accepts(pairs(14))
    errors = validate_rule(_rule(pairs(15)))
    assert [(e.path, GROUP_LIMIT_MESSAGE in e.message) for e in errors] == [("$.when", True)]
    assert "needs 16" in errors[0].message
    assert not _durable_accepts(pairs(15))


def test_nested_groups_of_one_kind_and_long_not_in_lists_cost_no_more_groups() -> None:
    nested_all = {
        "all": [
            {
                "all": [
                    {"field": "labels.a", "op": "exists"},
                    {"all": [{"field": "message", "op": "eq", "value": str(i)}]},
                ]
            }
            for i in range(10)
        ]
    }
    assert durable_groups(nested_all) == 1
    not_in = {"not": {"field": "labels.a", "op": "in", "value": [str(i) for i in range(256)]}}
    assert durable_groups(not_in) == 3  # the rule, "absent or", "differs from each"
    mixed_kinds = {"not": {"field": "labels.a", "op": "in", "value": ["1", 1, True]}}
    assert durable_groups(mixed_kinds) == 4  # the rule, and one "absent or differs" per kind
    for when in (nested_all, not_in, mixed_kinds):
        assert validate_rule(_rule(when)) == [] and _durable_accepts(when)


RECORDS = [
    {},
    {"labels": {"a": "1"}},
    {"labels": {"a": 1}},
    {"labels": {"a": 1.0}},
    {"labels": {"a": True}},
    {"labels": {"a": None}},
    {"labels": {"a": "warn"}, "message": "arr"},
    {"labels": {"a": ["1"]}},
    {"log": {"level": "warn"}, "process": {"pid": 2.5, "name": "a"}},
    {"process": {"pid": "1"}, "message": 0},
]


def _hits_per_record(engine: RuleEngine, rules: list[dict[str, Any]]) -> list[list[str]]:
    engine.replace_all(rules)
    return [
        sorted(result.hits) for result in engine.apply_batch([json.loads(json.dumps(r)) for r in RECORDS])
    ]


@pytest.mark.parametrize(
    "values", [["1"], ["1", "warn"], [1, "1"], [1.0, True, "a"], [True, False], [0, 1, 2.5, -3, "1", ""]]
)
def test_factored_in_lists_mean_what_the_list_of_comparisons_means(
    engine: RuleEngine, values: list[Any]
) -> None:
    field = {"field": "labels.a"}
    in_list = {**field, "op": "in", "value": values}
    rules = [
        _rule(in_list, "in"),
        _rule(_any_of(*[{**field, "op": "eq", "value": v} for v in values]), "any-eq"),
        _rule({"not": in_list}, "not-in"),
        _rule({"all": [{**field, "op": "ne", "value": v} for v in values]}, "all-ne"),
    ]
    for hits in _hits_per_record(engine, rules):
        assert ("in" in hits) == ("any-eq" in hits)
        assert ("not-in" in hits) == ("all-ne" in hits) == ("in" not in hits)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(when=small_condition)
def test_a_negated_condition_is_the_exact_complement(engine: RuleEngine, when: dict[str, Any]) -> None:
    rules = [_rule(when, "yes"), _rule({"not": when}, "no")]
    assume(not any(validate_rule(r) for r in rules))
    for hits in _hits_per_record(engine, rules):
        assert len(hits) == 1, hits
