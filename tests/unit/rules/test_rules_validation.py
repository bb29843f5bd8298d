"""Every validation error names the JSON path at fault and says why."""

from __future__ import annotations

from typing import Any

import pytest

from common.rules import validate_rule, validate_ruleset

OK: dict[str, Any] = {
    "id": "ok",
    "when": {"field": "message", "op": "exists"},
    "then": [{"action": "tag", "value": "t"}],
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**OK, **changes}


def cond(c: dict[str, Any]) -> dict[str, Any]:
    return with_(when=c)


def act(*actions: Any) -> dict[str, Any]:
    return with_(then=list(actions))


CASES: list[tuple[Any, str, str]] = [
    ("not a rule", "$", "must be an object"),
    ({"when": OK["when"], "then": OK["then"]}, "$.id", "missing required key 'id'"),
    ({"id": "x", "then": OK["then"]}, "$.when", "missing required key 'when'"),
    ({"id": "x", "when": OK["when"]}, "$.then", "missing required key 'then'"),
    (with_(extra=1), "$.extra", "unknown key 'extra'"),
    (with_(id="Has Space"), "$.id", "must match"),
    (with_(enabled="yes"), "$.enabled", "must be a boolean"),
    (with_(priority=1.5), "$.priority", "must be an integer"),
    (with_(priority=5000), "$.priority", "between"),
    (with_(description="x" * 2000), "$.description", "the limit is"),
    (with_(then=[]), "$.then", "at least one action"),
    (with_(then={}), "$.then", "must be an array"),
    (act(*[{"action": "drop"}] * 40), "$.then", "the limit is 32"),
    (with_(when=[]), "$.when", "must be an object"),
    (cond({"all": []}), "$.when.all", "at least one condition"),
    (cond({"any": "x"}), "$.when.any", "must be an array"),
    (cond({"all": [OK["when"]], "field": "x"}), "$.when", "exactly one key"),
    (cond({"all": [{"field": "a", "op": "eqq", "value": 1}]}), "$.when.all[0].op", "unknown operator 'eqq'"),
    (cond({"field": "a"}), "$.when.op", "missing required key 'op'"),
    (cond({"op": "eq", "value": 1}), "$.when.field", "missing required key 'field'"),
    (cond({"field": "a..b", "op": "exists"}), "$.when.field", "not a dotted field path"),
    (cond({"field": 3, "op": "exists"}), "$.when.field", "must be a string"),
    (cond({"field": ".".join("a" * 20), "op": "exists"}), "$.when.field", "too long"),
    (cond({"field": "a", "op": "eq"}), "$.when.value", "needs a 'value'"),
    (cond({"field": "a", "op": "eq", "value": {"x": 1}}), "$.when.value", "string, number or boolean"),
    (cond({"field": "a", "op": "gt", "value": "5"}), "$.when.value", "compares finite numbers"),
    (cond({"field": "a", "op": "lt", "value": 10**400}), "$.when.value", "compares finite numbers"),
    (cond({"field": "a", "op": "eq", "value": float("inf")}), "$.when.value", "string, number or boolean"),
    (cond({"field": "a", "op": "in", "value": "x"}), "$.when.value", "non-empty array"),
    (cond({"field": "a", "op": "in", "value": [1, [2]]}), "$.when.value[1]", "string, number or boolean"),
    (cond({"field": "a", "op": "in", "value": list(range(300))}), "$.when.value", "the limit is 256"),
    (cond({"field": "a", "op": "exists", "value": "yes"}), "$.when.value", "optional boolean"),
    (cond({"field": "a", "op": "matches", "value": "(a"}), "$.when.value", "RE2 cannot compile"),
    (cond({"field": "a", "op": "matches", "value": r"(a)\1"}), "$.when.value", "RE2 cannot compile"),
    (cond({"field": "a", "op": "matches", "value": "(?<=a)b"}), "$.when.value", "RE2 cannot compile"),
    (cond({"field": "a", "op": "matches", "value": "a" * 2000}), "$.when.value", "the limit is 1024"),
    (cond({"field": "a", "op": "startswith", "value": 5}), "$.when.value", "must be a string"),
    (cond({"all": [{"field": f"f{i}", "op": "exists"} for i in range(40)]}), "$.when.all[32]", "at most 32"),
    (
        cond({"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": OK["when"]}}}}}}}}),
        "$.when.not.not.not.not.not.not.not.not",
        "deeper",
    ),
    (act("tag"), "$.then[0]", "must be an object"),
    (act({"field": "x"}), "$.then[0].action", "missing required key 'action'"),
    (act({"action": "explode"}), "$.then[0].action", "unknown action 'explode'"),
    (act({"action": "drop", "field": "x"}), "$.then[0].field", "unknown key 'field'"),
    (act({"action": "set", "field": "a"}), "$.then[0].value", "missing required key 'value'"),
    (act({"action": "set", "field": "a", "value": "x" * 5000}), "$.then[0].value", "the limit is 4096"),
    (act({"action": "set", "field": "a", "value": float("nan")}), "$.then[0].value", "JSON value"),
    (act({"action": "remove"}), "$.then[0].field", "missing required key 'field'"),
    (act({"action": "rename", "field": "a", "to": "a.b"}), "$.then[0].to", "onto itself"),
    (act({"action": "tag", "value": ""}), "$.then[0].value", "must not be empty"),
    (
        act({"action": "extract", "field": "m", "pattern": "(?P<u>x)", "into": {"v": "user.name"}}),
        "$.then[0].into.v",
        "no named group 'v'",
    ),
    (act({"action": "extract", "field": "m", "pattern": "(?P<u>x)"}), "$.then[0].into", "needs 'into'"),
    (
        act({"action": "extract", "field": "m", "pattern": "%{NOPE:x}"}),
        "$.then[0].pattern",
        "unknown grok pattern",
    ),
    (
        act({"action": "extract", "field": "m", "pattern": "(?P<u>x)", "into": []}),
        "$.then[0].into",
        "must be an object",
    ),
    (act({"action": "route", "dataset": "Bad Name"}), "$.then[0].dataset", "lowercase dataset name"),
    (act({"action": "mask", "field": "m", "pattern": "["}), "$.then[0].pattern", "RE2 cannot compile"),
    (
        act({"action": "mask", "field": "m", "pattern": "x", "replacement": 1}),
        "$.then[0].replacement",
        "must be a string",
    ),
    (act({"action": "alert", "severity": "loud", "message": "m"}), "$.then[0].severity", "unknown severity"),
    (act({"action": "alert", "severity": "low"}), "$.then[0].message", "missing required key 'message'"),
    (
        act({"action": "alert", "severity": "low", "message": "m", "threshold": 5}),
        "$.then[0].threshold",
        "must be an object",
    ),
    (
        act({"action": "alert", "severity": "low", "message": "m", "threshold": {"window": "1m"}}),
        "$.then[0].threshold.count",
        "missing",
    ),
    (
        act(
            {"action": "alert", "severity": "low", "message": "m", "threshold": {"count": 0, "window": "1m"}}
        ),
        "$.then[0].threshold.count",
        "integer from 1",
    ),
    (
        act(
            {
                "action": "alert",
                "severity": "low",
                "message": "m",
                "threshold": {"count": 2, "window": "5 min"},
            }
        ),
        "$.then[0].threshold.window",
        "not a duration",
    ),
    (
        act(
            {"action": "alert", "severity": "low", "message": "m", "threshold": {"count": 2, "window": "30d"}}
        ),
        "$.then[0].threshold.window",
        "between",
    ),
    (
        act(
            {
                "action": "alert",
                "severity": "low",
                "message": "m",
                "threshold": {"count": 2, "window": 60, "group_by": "user"},
            }
        ),
        "$.then[0].threshold.group_by",
        "array of field paths",
    ),
    (
        act(
            {
                "action": "alert",
                "severity": "low",
                "message": "m",
                "threshold": {"count": 2, "window": 60, "group_by": ["ok", "b@d!"]},
            }
        ),
        "$.then[0].threshold.group_by[1]",
        "dotted field path",
    ),
    (
        act(
            {
                "action": "alert",
                "severity": "low",
                "message": "m",
                "threshold": {"count": 2, "window": 60, "per": 1},
            }
        ),
        "$.then[0].threshold.per",
        "unknown key",
    ),
]


@pytest.mark.parametrize(("rule", "path", "why"), CASES, ids=[f"{p}:{w}" for _, p, w in CASES])
def test_each_error_names_its_path_and_reason(rule: Any, path: str, why: str) -> None:
    errors = validate_rule(rule)
    assert any(e.path == path and why in e.message for e in errors), [str(e) for e in errors]


def test_a_valid_rule_has_no_errors() -> None:
    assert validate_rule(OK) == []


def test_ruleset_reports_duplicates_and_size() -> None:
    errors = validate_ruleset([OK, with_(id="b"), OK])
    assert [(e.path, "duplicate" in e.message) for e in errors] == [("$[2].id", True)]
    too_many = [with_(id=f"r{i}") for i in range(1001)]
    assert any(e.path == "$" and "the limit is 1000" in e.message for e in validate_ruleset(too_many))
    assert validate_ruleset({"id": "x"})[0].message.startswith("a rule set must be an array")  # type: ignore[arg-type]


def test_errors_inside_a_ruleset_are_prefixed_with_the_index() -> None:
    [error] = validate_ruleset([OK, with_(id="b", priority="high")])
    assert error.path == "$[1].priority"
