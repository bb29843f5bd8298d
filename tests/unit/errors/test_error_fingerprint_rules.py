"""Rules run after parsing: a rule's ``set`` of ``error.fingerprint`` overrides the computed one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from traces import JAVA_ORDER

from common.cli import main
from common.rules import dry_run, validate_ruleset

CUSTOM = {
    "id": "orders-one-group",
    "when": {"field": "error.type", "op": "eq", "value": "java.lang.IllegalStateException"},
    "then": [{"action": "set", "field": "error.fingerprint", "value": "orders-validation"}],
}


def test_a_rule_may_set_error_fingerprint() -> None:
    assert validate_ruleset([CUSTOM]) == []


def test_the_dry_run_shows_the_computed_fingerprint_and_a_rule_override() -> None:
    other = "2023-11-10T08:00:00Z ERROR payment 42 failed"
    without, plain = dry_run([], [JAVA_ORDER.variants[0], other])
    assert len(without["error"]["fingerprint"]) == 16
    overridden, untouched = dry_run([CUSTOM], [JAVA_ORDER.variants[1], other])
    assert overridden["error"]["fingerprint"] == "orders-validation"
    assert overridden["rule"]["id"] == ["orders-one-group"]
    assert untouched["error"] == plain["error"]  # records the rule does not match keep theirs


def test_logflow_rules_test_prints_the_fingerprint(tmp_path: Path, capsys: Any) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([CUSTOM]))
    lines = tmp_path / "lines.log"
    lines.write_text("2023-11-10 08:00:00,001 ERROR [main] c.Foo: upstream 10.0.0.5:8443 returned 502\n")
    assert main(["rules", "test", "--rules", str(rules), "--lines", str(lines)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["error"]["grouping"]["template"] == "upstream <ip>:<port> returned <num>"
    assert len(record["error"]["fingerprint"]) == 16
