"""Every action, plus ordering, drop, stages and alerts."""

from __future__ import annotations

from typing import Any

from rules_helpers import rule

ANY = {"field": "message", "op": "exists"}


def one(run: Any, record: dict[str, Any], *actions: dict[str, Any]) -> Any:
    [result] = run([rule(ANY, *actions)], [record])
    return result


def test_set_creates_nested_fields_and_copies_values(run: Any) -> None:
    a = one(run, {"message": "m"}, {"action": "set", "field": "labels.env", "value": {"k": [1]}})
    b = one(run, {"message": "m"}, {"action": "set", "field": "labels.env", "value": {"k": [1]}})
    assert a.record["labels"]["env"] == {"k": [1]}
    a.record["labels"]["env"]["k"].append(2)
    assert b.record["labels"]["env"] == {"k": [1]}


def test_remove_prunes_empty_parents(run: Any) -> None:
    result = one(run, {"message": "m", "user": {"name": "x"}}, {"action": "remove", "field": "user.name"})
    assert "user" not in result.record


def test_rename_moves_a_value_and_ignores_missing_fields(run: Any) -> None:
    result = one(
        run,
        {"message": "m", "src": "1.2.3.4"},
        {"action": "rename", "field": "src", "to": "source.ip"},
        {"action": "rename", "field": "nope", "to": "other"},
    )
    assert result.record["source"] == {"ip": "1.2.3.4"}
    assert "src" not in result.record and "other" not in result.record


def test_tag_adds_once(run: Any) -> None:
    result = one(
        run, {"message": "m", "tags": ["a"]}, {"action": "tag", "value": "a"}, {"action": "tag", "value": "b"}
    )
    assert result.record["tags"] == ["a", "b"]


def test_extract_named_groups_and_grok(run: Any) -> None:
    result = one(
        run,
        {"message": "Invalid user bob from 10.1.2.3 port 22"},
        {
            "action": "extract",
            "field": "message",
            "pattern": r"^Invalid user (?P<user>\S+) from (?P<ip>\S+)",
            "into": {"user": "user.name", "ip": "source.ip"},
        },
        {"action": "extract", "field": "message", "pattern": "port %{INT:source.port}"},
    )
    assert result.record["user"] == {"name": "bob"}
    assert result.record["source"] == {"ip": "10.1.2.3", "port": "22"}


def test_extract_without_a_match_changes_nothing(run: Any) -> None:
    action = {"action": "extract", "field": "message", "pattern": "(?P<x>z+)", "into": {"x": "x"}}
    assert one(run, {"message": "abc"}, action).record == {"message": "abc", "rule": {"id": ["r"]}}


def test_route_sets_the_dataset(run: Any) -> None:
    result = one(
        run, {"message": "m", "event": {"dataset": "a"}}, {"action": "route", "dataset": "security.ssh"}
    )
    assert result.record["event"]["dataset"] == "security.ssh"


def test_mask_uses_a_literal_replacement(run: Any) -> None:
    result = one(
        run,
        {"message": "login bob@example.com password=hunter2"},
        {"action": "mask", "field": "message", "pattern": "%{EMAILADDRESS}"},
        {"action": "mask", "field": "message", "pattern": r"password=\S+", "replacement": r"password=\1***"},
    )
    assert result.record["message"] == r"login [REDACTED] password=\1***"


def test_drop_stops_processing_and_names_the_rule(run: Any) -> None:
    rules = [
        rule(ANY, {"action": "drop"}, {"action": "tag", "value": "after"}, rule_id="dropper", priority=5),
        rule(ANY, {"action": "tag", "value": "low"}, rule_id="later"),
    ]
    [result] = run(rules, [{"message": "m"}])
    assert (result.dropped, result.dropped_by, result.hits) == (True, "dropper", ["dropper"])
    assert "tags" not in result.record


def test_priority_then_id_decides_order(run: Any) -> None:
    rules = [
        rule(ANY, {"action": "set", "field": "x", "value": "b"}, rule_id="b"),
        rule(ANY, {"action": "set", "field": "x", "value": "a"}, rule_id="a"),
        rule(ANY, {"action": "set", "field": "x", "value": "hi"}, rule_id="z", priority=9),
    ]
    [result] = run(rules, [{"message": "m"}])
    assert result.hits == ["z", "a", "b"]
    assert result.record["rule"]["id"] == ["z", "a", "b"]
    assert result.record["x"] == "b"


def test_later_rules_see_earlier_writes(run: Any) -> None:
    rules = [
        rule(
            ANY,
            {"action": "extract", "field": "message", "pattern": "user=%{WORD:user.name}"},
            rule_id="a",
            priority=2,
        ),
        rule(
            {"field": "user.name", "op": "eq", "value": "root"},
            {"action": "route", "dataset": "root"},
            rule_id="b",
        ),
        rule(
            {"field": "event.dataset", "op": "eq", "value": "root"},
            {"action": "tag", "value": "r"},
            rule_id="c",
        ),
    ]
    results = run(rules, [{"message": "user=root"}, {"message": "user=bob"}])
    assert [r.hits for r in results] == [["a", "b", "c"], ["a"]]
    assert results[0].record["tags"] == ["r"]


def test_plain_alert_is_a_separate_record(run: Any) -> None:
    record = {"@timestamp": "2024-01-01T00:00:00Z", "message": "disk full", "host": {"name": "h1"}}
    result = one(
        run, record, {"action": "alert", "severity": "high", "message": "{host.name}: {message} ({nope})"}
    )
    [alert] = result.alerts
    assert alert["event"]["kind"] == "alert"
    assert alert["rule"]["id"] == "r"
    assert alert["message"] == "h1: disk full ()"
    assert alert["alert"] == {"severity": "high", "count": 1, "window": None, "group": {}}
    assert alert["@timestamp"] == "2024-01-01T00:00:00Z"


def test_threshold_alert_fires_once_per_count_within_the_window(run: Any, engine: Any) -> None:
    alert = {
        "action": "alert",
        "severity": "medium",
        "message": "{alert.count} failures for {user.name}",
        "threshold": {"count": 3, "window": "1m", "group_by": ["user.name"]},
    }
    engine.replace_all([rule(ANY, alert, rule_id="burst")])

    def rec(second: int, user: str) -> dict[str, Any]:
        return {"@timestamp": f"2024-01-01T00:00:{second:02d}Z", "message": "fail", "user": {"name": user}}

    batch = [rec(0, "a"), rec(1, "b"), rec(2, "a"), rec(3, "a"), rec(4, "a"), rec(5, "b")]
    fired = [[a["message"] for a in r.alerts] for r in engine.apply_batch(batch)]
    assert fired == [[], [], [], ["3 failures for a"], [], []]
    # b: 1s, 5s, 59s are three within a minute. a: the count restarted after firing (4s, 59s), and
    # at 2:00 the 4s match has left the window, so a stays at two.
    late = engine.apply_batch(
        [rec(59, "b"), rec(59, "a"), {**rec(0, "a"), "@timestamp": "2024-01-01T00:02:00Z"}]
    )
    assert [len(r.alerts) for r in late] == [1, 0, 0]
    assert late[0].alerts[0]["alert"]["group"] == {"user.name": "b"}
