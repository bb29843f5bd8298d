"""The rules topic's wire format: what the rules API encodes is what the job decodes."""

import json

import pytest

from common.schema import rules_topic
from common.schema.rules_topic import RuleVersion

RULE = {
    "id": "r1",
    "when": {"field": "message", "op": "contains", "value": "é"},
    "then": [{"action": "drop"}],
}


def test_an_encoded_version_decodes_to_the_same_rule_and_version() -> None:
    value = rules_topic.encode(RuleVersion("r1", 3, "2026-12-04T20:00:00.000Z", "alice", RULE))
    assert value is not None
    assert "é" in value.decode()  # non-ASCII kept as it is
    change = rules_topic.decode("r1", value)
    assert (change.rule_id, change.version, change.rule) == ("r1", 3, RULE)
    assert RuleVersion.from_wire(json.loads(value)).to_wire() == json.loads(value)


def test_a_deletion_is_a_tombstone_both_ways() -> None:
    assert rules_topic.encode(None) is None
    change = rules_topic.decode("r1", None)
    assert change.rule is None and change.rule_id == "r1"


@pytest.mark.parametrize(
    "payload",
    ["not json", "[]", '{"version": 1}', '{"rule": {}, "version": "1"}', '{"rule": {}, "version": true}'],
)
def test_what_is_not_the_format_is_refused_with_the_rule_named(payload: str) -> None:
    with pytest.raises(ValueError, match="r1"):
        rules_topic.decode("r1", payload)
