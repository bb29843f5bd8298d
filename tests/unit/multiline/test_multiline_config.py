"""The rules document: selection by topic and source, Filebeat/Vector forms, errors at their paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.multiline import (
    MultilineConfigError,
    MultilineOptions,
    StreamLine,
    join_all,
    load_config,
    parse_config,
)

DOCUMENT = {
    "default": "indent",
    "max_lines": 300,
    "rules": [
        {"name": "orders", "topics": ["orders", "orders.*"], "builtin": "java", "max_bytes": 4096},
        {
            "name": "legacy",
            "sources": ["*|/var/log/legacy/*.log"],
            "pattern": r"^\[",
            "negate": True,
            "match": "after",
        },
        {
            "name": "sql",
            "topics": "db",
            "condition_pattern": ";$",
            "mode": "halt_with",
            "timeout_ms": 5000,
        },
        {"name": "raw", "topics": ["raw"], "builtin": "none"},
    ],
}


def texts(config_rule_for: object, topic: str, source: str, lines: list[str]) -> list[str]:
    stream = [StreamLine(topic, 0, i, 0, source, t) for i, t in enumerate(lines)]
    return [e.text for e in join_all(stream, config_rule_for)]  # type: ignore[arg-type]


def test_first_matching_rule_wins_and_default_applies_otherwise() -> None:
    config = parse_config(DOCUMENT, MultilineOptions(max_lines=500, max_bytes=262_144, timeout_ms=1_000))
    orders = config.rule_for("orders.eu", "h|/var/log/legacy/x.log")
    assert orders.name == "orders" and orders.builtin == "java"
    assert (orders.max_lines, orders.max_bytes, orders.timeout_ms) == (300, 4096, 1_000)
    assert config.rule_for("app", "web-1|/var/log/legacy/a.log").name == "legacy"
    assert config.rule_for("app", "web-1|/var/log/other.log").name == "default"
    assert config.rule_for("app", "web-1|/var/log/other.log").builtin == "indent"
    assert config.rule_for("db", "").timeout_ms == 5_000


def test_filebeat_negate_after_joins_lines_not_starting_with_a_bracket() -> None:
    config = parse_config(DOCUMENT)
    lines = ["[2024-03-02] ERROR a", "detail 1", "detail 2", "[2024-03-02] INFO b"]
    assert texts(config.rule_for, "app", "h|/var/log/legacy/a.log", lines) == [
        "[2024-03-02] ERROR a\ndetail 1\ndetail 2",
        "[2024-03-02] INFO b",
    ]


def test_filebeat_before_prepends_continuation_lines_to_the_next_line() -> None:
    config = parse_config({"rules": [{"name": "b", "pattern": r"\\$", "match": "before"}]})
    lines = ["a \\", "b \\", "c", "d"]
    assert texts(config.rule_for, "t", "", lines) == ["a \\\nb \\\nc", "d"]


def test_vector_halt_with_and_none() -> None:
    config = parse_config(DOCUMENT)
    assert texts(config.rule_for, "db", "", ["SELECT 1", "FROM t;", "COMMIT;"]) == [
        "SELECT 1\nFROM t;",
        "COMMIT;",
    ]
    assert texts(config.rule_for, "raw", "", ["a", "\tb"]) == ["a", "\tb"]


def errors_of(document: object) -> dict[str, str]:
    with pytest.raises(MultilineConfigError) as caught:
        parse_config(document)
    return {e.path: e.message for e in caught.value.errors}


def test_every_error_is_reported_at_its_path() -> None:
    errors = errors_of(
        {
            "default": "cobol",
            "max_lines": 0,
            "colour": "red",
            "rules": [
                {"name": "a", "builtin": "java", "mode": "halt_with"},
                {"name": "b", "pattern": "(unclosed", "match": "after"},
                {"name": "c", "condition_pattern": "x", "mode": "sideways"},
                {"name": "d", "pattern": "x"},
                {"name": "e", "builtin": "go", "pattern": "x"},
                {"name": "f", "condition_pattern": "(?<=x)y", "mode": "halt_before"},
                {"name": "a", "builtin": "python"},
                {"builtin": "python", "topics": [], "sources": [3], "max_bytes": "big"},
                "not a rule",
            ],
        }
    )
    assert "must be one of" in errors["$.default"]
    assert "between 1 and" in errors["$.max_lines"]
    assert "unknown key" in errors["$.colour"]
    assert errors["$.rules[0].mode"] == "not allowed with builtin"
    assert "RE2 cannot compile" in errors["$.rules[1].pattern"]
    assert "sideways" in errors["$.rules[2].mode"]
    assert "after or before" in errors["$.rules[3].match"]
    assert "exactly one of" in errors["$.rules[4]"]
    assert "RE2 cannot compile" in errors["$.rules[5].condition_pattern"]
    assert "duplicate name 'a'" in errors["$.rules[6].name"]
    assert "required" in errors["$.rules[7].name"]
    assert "non-empty array" in errors["$.rules[7].topics"]
    assert "non-empty string" in errors["$.rules[7].sources[0]"]
    assert "integer" in errors["$.rules[7].max_bytes"]
    assert "must be an object" in errors["$.rules[8]"]


def test_document_must_be_an_object() -> None:
    assert errors_of(["rules"]) == {"$": "must be an object, got array"}


def test_load_from_yaml_and_json_files_and_the_environment(tmp_path: Path) -> None:
    yaml_file = tmp_path / "multiline.yaml"
    yaml_file.write_text("default: none\nrules:\n  - name: j\n    topics: [java]\n    builtin: java\n")
    env = {
        "LOGFLOW_MULTILINE_RULES": str(yaml_file),
        "LOGFLOW_MULTILINE_MAX_LINES": "50",
        "LOGFLOW_MULTILINE_MAX_BYTES": "65536",
        "LOGFLOW_MULTILINE_TIMEOUT_MS": "250",
    }
    config = load_config(MultilineOptions.from_env(env))
    rule = config.rule_for("java", "")
    assert (rule.name, rule.max_lines, rule.max_bytes, rule.timeout_ms) == ("j", 50, 65536, 250)
    assert config.rule_for("other", "").builtin == "none"

    json_file = tmp_path / "multiline.json"
    json_file.write_text('{"rules": [{"name": "x", "builtin": "go"}]}')
    assert load_config(MultilineOptions(rules_path=str(json_file))).rule_for("t", "").builtin == "go"


def test_defaults_without_a_document() -> None:
    options = MultilineOptions.from_env({})
    assert (options.max_lines, options.max_bytes, options.timeout_ms) == (500, 262_144, 1_000)
    rule = load_config(options).rule_for("logs", "")
    assert (rule.builtin, rule.max_lines, rule.max_bytes, rule.timeout_ms) == ("auto", 500, 262_144, 1_000)


def test_bad_files_and_variables_name_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(MultilineConfigError, match="cannot read"):
        load_config(MultilineOptions(rules_path=str(tmp_path / "missing.yaml")))
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n")
    with pytest.raises(MultilineConfigError, match=r"broken\.yaml: \$: not JSON or YAML"):
        load_config(MultilineOptions(rules_path=str(broken)))
    with pytest.raises(ValueError, match="LOGFLOW_MULTILINE_MAX_LINES must be at least 1"):
        MultilineOptions.from_env({"LOGFLOW_MULTILINE_MAX_LINES": "0"})
    with pytest.raises(ValueError, match="LOGFLOW_MULTILINE_TIMEOUT_MS must be an integer"):
        MultilineOptions.from_env({"LOGFLOW_MULTILINE_TIMEOUT_MS": "1s"})
