from __future__ import annotations

from rules_api.diff import diff


def test_no_change_is_an_empty_diff() -> None:
    rule = {"id": "a", "then": [{"action": "tag", "value": "x"}]}
    assert diff(rule, dict(rule)) == []


def test_creation_and_deletion() -> None:
    assert diff(None, {"id": "a"}) == [{"op": "add", "path": "$", "value": {"id": "a"}}]
    assert diff({"id": "a"}, None) == [{"op": "remove", "path": "$", "old": {"id": "a"}}]


def test_nested_changes_use_json_paths() -> None:
    old = {"enabled": True, "then": [{"action": "tag", "value": "x"}], "description": "d"}
    new = {"enabled": False, "then": [{"action": "tag", "value": "y"}, {"action": "drop"}], "priority": 3}
    assert diff(old, new) == [
        {"op": "replace", "path": "$.enabled", "old": True, "value": False},
        {"op": "replace", "path": "$.then[0].value", "old": "x", "value": "y"},
        {"op": "add", "path": "$.then[1]", "value": {"action": "drop"}},
        {"op": "remove", "path": "$.description", "old": "d"},
        {"op": "add", "path": "$.priority", "value": 3},
    ]


def test_type_changes_count_even_when_python_equal() -> None:
    assert diff({"v": 1}, {"v": True}) == [{"op": "replace", "path": "$.v", "old": 1, "value": True}]
