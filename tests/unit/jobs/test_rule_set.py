import json
from collections.abc import Iterator

import pytest

from common.schema import rules_topic
from jobs.operators.rule_set import ActiveRules


def payload(rule_id: str, version: int, tag: str, enabled: bool = True, op: str = "contains") -> str:
    rule = {
        "id": rule_id,
        "enabled": enabled,
        "when": {"field": "message", "op": op, "value": "boom"},
        "then": [{"action": "tag", "value": tag}],
    }
    return json.dumps(
        {
            "id": rule_id,
            "version": version,
            "updated_at": "2026-11-22T00:00:00Z",
            "updated_by": "t",
            "rule": rule,
        }
    )


@pytest.fixture
def active() -> Iterator[ActiveRules]:
    rules = ActiveRules()
    yield rules
    rules.engine.close()


def tags_of(active: ActiveRules) -> list[str]:
    return active.engine.apply_batch([{"message": "a boom", "event": {"dataset": "x"}}])[0].record.get(
        "tags", []
    )


def test_newer_versions_replace_older_ones_never_the_reverse(active: ActiveRules) -> None:
    assert active.apply(rules_topic.decode("r", payload("r", 2, "two")))
    assert tags_of(active) == ["two"]
    assert not active.apply(rules_topic.decode("r", payload("r", 1, "one")))
    assert not active.apply(rules_topic.decode("r", payload("r", 2, "again")))
    assert tags_of(active) == ["two"]
    assert active.versions == {"r": 2}


def test_a_rule_that_fails_to_compile_keeps_the_previous_version(active: ActiveRules) -> None:
    active.apply(rules_topic.decode("r", payload("r", 1, "one")))
    assert not active.apply(rules_topic.decode("r", payload("r", 2, "two", op="no-such-op")))
    assert active.rejected == 1
    assert tags_of(active) == ["one"]
    assert active.versions == {"r": 1}


def test_disable_and_delete(active: ActiveRules) -> None:
    active.apply(rules_topic.decode("r", payload("r", 1, "one")))
    assert active.apply(rules_topic.decode("r", payload("r", 2, "one", enabled=False)))
    assert tags_of(active) == []
    assert active.apply(rules_topic.decode("r", payload("r", 3, "three")))
    assert tags_of(active) == ["three"]
    assert active.apply(rules_topic.decode("r", None))
    assert tags_of(active) == []
    assert not active.apply(rules_topic.decode("r", None))


def test_restore_rebuilds_from_checkpointed_payloads_and_skips_garbage(active: ActiveRules) -> None:
    active.restore([("r", payload("r", 4, "restored")), ("bad", "not json")])
    assert active.versions == {"r": 4}
    assert active.rejected == 1
    assert tags_of(active) == ["restored"]


def test_malformed_payloads_are_value_errors() -> None:
    with pytest.raises(ValueError, match="no integer 'version'"):
        rules_topic.decode("r", json.dumps({"rule": {}, "version": "1"}))
    with pytest.raises(ValueError, match="no 'rule' object"):
        rules_topic.decode("r", "[]")
