"""Every operator, positive and negated, decided by durable-rules through the engine host."""

from __future__ import annotations

from typing import Any

import pytest
from rules_helpers import rule

RECORD: dict[str, Any] = {
    "message": "Invalid user bob from 10.0.0.1",
    "process": {"name": "sshd", "pid": 4242},
    "log": {"level": "error"},
    "http": {"status": "503"},
    "tags": ["auth", "ssh"],
    "flag": True,
    "empty": None,
    "big": 1e20,  # Python writes these as "1e+20"/"1e-05", which durable-rules cannot parse
    "tiny": 1e-05,
}

CASES: list[tuple[dict[str, Any], bool]] = [
    ({"field": "process.name", "op": "eq", "value": "sshd"}, True),
    ({"field": "process.name", "op": "eq", "value": "cron"}, False),
    ({"field": "process.pid", "op": "eq", "value": 4242}, True),
    ({"field": "process.pid", "op": "eq", "value": "4242"}, False),  # eq is type-strict
    ({"field": "http.status", "op": "eq", "value": 503}, False),
    ({"field": "flag", "op": "eq", "value": True}, True),
    ({"field": "flag", "op": "eq", "value": 1}, False),
    ({"field": "missing", "op": "eq", "value": "x"}, False),
    ({"field": "process.name", "op": "ne", "value": "cron"}, True),
    ({"field": "process.name", "op": "ne", "value": "sshd"}, False),
    ({"field": "missing", "op": "ne", "value": "x"}, True),
    ({"field": "log.level", "op": "in", "value": ["warn", "error"]}, True),
    ({"field": "log.level", "op": "in", "value": ["info", "debug"]}, False),
    ({"field": "message", "op": "contains", "value": "user bob"}, True),
    ({"field": "message", "op": "contains", "value": "alice"}, False),
    ({"field": "tags", "op": "contains", "value": "ssh"}, True),
    ({"field": "tags", "op": "contains", "value": "ss"}, False),  # arrays: element, not substring
    ({"field": "message", "op": "startswith", "value": "Invalid"}, True),
    ({"field": "message", "op": "startswith", "value": "user"}, False),
    ({"field": "message", "op": "matches", "value": r"from \d+\.\d+\.\d+\.\d+$"}, True),
    ({"field": "message", "op": "matches", "value": "^user"}, False),
    ({"field": "process.pid", "op": "matches", "value": "^42"}, True),  # numbers match as text
    ({"field": "missing", "op": "matches", "value": ".*"}, False),
    ({"field": "process.pid", "op": "exists"}, True),
    ({"field": "missing", "op": "exists"}, False),
    ({"field": "empty", "op": "exists"}, False),  # null counts as missing
    ({"field": "missing", "op": "exists", "value": False}, True),
    ({"field": "tags", "op": "exists"}, True),
    ({"field": "process.pid", "op": "gt", "value": 4000}, True),
    ({"field": "process.pid", "op": "gt", "value": 4242}, False),
    ({"field": "process.pid", "op": "gte", "value": 4242}, True),
    ({"field": "process.pid", "op": "lt", "value": 4242.5}, True),
    ({"field": "process.pid", "op": "lte", "value": 4241}, False),
    ({"field": "http.status", "op": "gte", "value": 500}, True),  # numeric strings compare as numbers
    ({"field": "message", "op": "gt", "value": 1}, False),
    ({"field": "missing", "op": "lt", "value": 1}, False),
    ({"field": "big", "op": "eq", "value": 1e20}, True),
    ({"field": "big", "op": "gt", "value": 1e19}, True),
    ({"field": "big", "op": "lt", "value": 1e20}, False),
    ({"field": "tiny", "op": "eq", "value": 1e-05}, True),
    ({"field": "tiny", "op": "gte", "value": 1e-05}, True),
    ({"field": "tiny", "op": "lt", "value": 1e-06}, False),
]


@pytest.mark.parametrize(
    ("cond", "expected"), CASES, ids=[f"{c['op']}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_operator(run: Any, cond: dict[str, Any], expected: bool) -> None:
    [result] = run([rule(cond)], [dict(RECORD)])
    assert result.hits == (["r"] if expected else [])


@pytest.mark.parametrize(
    ("cond", "expected"), CASES, ids=[f"not-{c['op']}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_negated_operator_is_the_exact_complement(run: Any, cond: dict[str, Any], expected: bool) -> None:
    [result] = run([rule({"not": cond})], [dict(RECORD)])
    assert result.hits == ([] if expected else ["r"])


def test_combinators_nest(run: Any) -> None:
    when = {
        "all": [
            {"field": "process.name", "op": "eq", "value": "sshd"},
            {
                "any": [
                    {"field": "log.level", "op": "eq", "value": "debug"},
                    {"not": {"field": "message", "op": "contains", "value": "alice"}},
                ]
            },
        ]
    }
    records = [dict(RECORD), {**RECORD, "message": "alice"}, {**RECORD, "process": {"name": "cron"}}]
    assert [r.hits for r in run([rule(when)], records)] == [["r"], [], []]


def test_dataset_index_only_sees_its_dataset(run: Any) -> None:
    when = {"all": [{"field": "event.dataset", "op": "in", "value": ["linux", "sshd"]}]}
    records = [{"event": {"dataset": d}} for d in ("linux", "hdfs", "sshd")] + [{}]
    assert [r.hits for r in run([rule(when)], records)] == [["r"], [], ["r"], []]


def test_the_same_record_matches_again_in_a_later_batch(run: Any, engine: Any) -> None:
    run([rule({"field": "process.name", "op": "eq", "value": "sshd"})], [dict(RECORD)])
    # durable-rules drops events it has seen before; every fact carries a fresh id.
    assert [r.hits for r in engine.apply_batch([dict(RECORD), dict(RECORD)])] == [["r"], ["r"]]
