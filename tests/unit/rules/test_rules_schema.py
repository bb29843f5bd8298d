"""The published JSON Schema is current and agrees with the validator on the fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from common.rules import load_rules_file, validate_rule
from common.schema.rule import RULE_JSON_SCHEMA, schema_json

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "common" / "schema" / "rule.schema.json"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"


def test_the_schema_file_is_generated_from_the_model() -> None:
    assert SCHEMA_FILE.read_text() == schema_json(), "run: python -m common.schema.rule > " + str(SCHEMA_FILE)


@pytest.mark.parametrize("name", ["linux.yaml", "hdfs.json"])
def test_fixture_rules_pass_both_the_schema_and_the_validator(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(RULE_JSON_SCHEMA)
    validator = jsonschema.Draft202012Validator(RULE_JSON_SCHEMA)
    for rule in load_rules_file(FIXTURES / name):
        assert validate_rule(rule) == []
        assert list(validator.iter_errors(rule)) == [], json.dumps(rule)


def test_the_schema_rejects_what_the_validator_rejects_structurally() -> None:
    validator = jsonschema.Draft202012Validator(RULE_JSON_SCHEMA)
    bad = {"id": "x", "when": {"field": "m", "op": "nope"}, "then": [{"action": "drop", "extra": 1}]}
    assert validate_rule(bad) != [] and not validator.is_valid(bad)
