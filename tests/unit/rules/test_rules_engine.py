"""Hot swap, the engine host's lifecycle, threshold state, and rule file loading."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from rules_helpers import rule

from common.rules import (
    RuleEngine,
    RuleEngineOptions,
    RuleResult,
    RuleValidationError,
    ThresholdCounter,
    load_rules_file,
    threshold_key,
)
from common.rules.decide import Decisions

SSHD = {"field": "process.name", "op": "eq", "value": "sshd"}
RECORD = {"message": "m", "process": {"name": "sshd"}}


def test_invalid_upsert_keeps_the_previous_rules(engine: RuleEngine) -> None:
    engine.replace_all([rule(SSHD, rule_id="a")])
    with pytest.raises(RuleValidationError) as caught:
        engine.upsert(rule({"field": "message", "op": "matches", "value": "(x"}, rule_id="a"))
    assert caught.value.errors[0].path == "$.when.value"
    assert [r.hits for r in engine.apply_batch([dict(RECORD)])] == [["a"]]


def test_upsert_remove_and_disable(engine: RuleEngine) -> None:
    engine.replace_all([])
    engine.upsert(rule(SSHD, rule_id="a"))
    engine.upsert(rule(SSHD, rule_id="b", enabled=False))
    assert set(engine.rules) == {"a", "b"}
    assert engine.apply_batch([dict(RECORD)])[0].hits == ["a"]
    engine.upsert(rule(SSHD, rule_id="b"))
    engine.remove("a")
    engine.remove("never-existed")
    assert engine.apply_batch([dict(RECORD)])[0].hits == ["b"]


def test_replace_all_is_all_or_nothing(engine: RuleEngine) -> None:
    engine.replace_all([rule(SSHD, rule_id="a")])
    with pytest.raises(RuleValidationError):
        engine.replace_all([rule(SSHD, rule_id="b"), {"id": "c"}])
    assert list(engine.rules) == ["a"]


def test_rules_with_the_same_condition_share_a_ruleset(engine: RuleEngine) -> None:
    engine.replace_all([rule(SSHD, rule_id="a"), rule(SSHD, rule_id="b")])
    assert engine.apply_batch([dict(RECORD)])[0].hits == ["a", "b"]


def test_rules_differing_only_in_a_string_predicate_are_kept_apart(engine: RuleEngine) -> None:
    # The predicates are computed in Python, so their durable-rules definitions look alike; the
    # ruleset name must still tell them apart.
    def contains(word: str, rule_id: str) -> dict[str, Any]:
        return rule({"all": [SSHD, {"field": "message", "op": "contains", "value": word}]}, rule_id=rule_id)

    engine.replace_all([contains("alpha", "a"), contains("beta", "b")])
    results = engine.apply_batch([{**RECORD, "message": "alpha"}, {**RECORD, "message": "beta"}])
    assert [r.hits for r in results] == [["a"], ["b"]]
    assert engine.rules["a"]["when"] != engine.rules["b"]["when"]


@pytest.mark.parametrize(
    "options",
    [
        RuleEngineOptions(host_max_registrations=10),
        RuleEngineOptions(host_memory_budget_mb=1),
        RuleEngineOptions(host_max_registrations=10, warm_spare=False),
    ],
    ids=["registration-budget", "memory-budget", "no-spare"],
)
def test_host_is_recycled_past_its_budget_and_keeps_working(options: RuleEngineOptions) -> None:
    with RuleEngine(options) as engine:
        first = engine.host.process_ids()[0]
        for i in range(40):  # each new ruleset that has seen events leaks ~0.1 MB inside durable-rules
            engine.upsert(rule({"field": "process.name", "op": "eq", "value": f"p{i}"}, rule_id="swap"))
            assert engine.apply_batch([{"process": {"name": f"p{i}"}}])[0].hits == ["swap"]
        assert engine.host.recycles >= 1
        assert first not in engine.host.process_ids()
        assert len(engine.host.process_ids()) == (2 if options.warm_spare else 1)
        engine.upsert(rule(SSHD, rule_id="swap"))
        assert engine.apply_batch([dict(RECORD)])[0].hits == ["swap"]


def test_a_killed_host_is_replaced_transparently() -> None:
    with RuleEngine() as engine:
        engine.replace_all([rule(SSHD, rule_id="a")])
        engine.host._current.proc.kill()
        engine.host._current.proc.wait()
        assert engine.apply_batch([dict(RECORD)])[0].hits == ["a"]


def test_threshold_hits_are_returned_for_keyed_state() -> None:
    alert = {"action": "alert", "severity": "low", "message": "x", "threshold": {"count": 2, "window": 10}}
    with RuleEngine(count_thresholds=False) as engine:
        engine.replace_all([rule(SSHD, alert, rule_id="t")])
        results = engine.apply_batch([{**RECORD, "@timestamp": "2024-01-01T00:00:05Z"}])
    [hit] = results[0].threshold_hits
    assert results[0].alerts == []
    assert hit.key == threshold_key("t", []) and hit.timestamp == 1704067205.0
    counter = ThresholdCounter(hit.count, hit.window_seconds)
    assert counter.observe(hit.timestamp) is False
    restored = ThresholdCounter.from_state(json.loads(json.dumps(counter.to_state())))
    assert restored.observe(hit.timestamp + 1) is True
    assert hit.alert()["alert"]["count"] == 2
    # The job pickles hits from the rules operator to the keyed counter: compiled or not, every
    # protocol must bring one back whole.
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(hit, protocol)) == hit
    assert cloudpickle.loads(cloudpickle.dumps(hit)) == hit


def test_threshold_counter_window_and_idle() -> None:
    counter = ThresholdCounter(count=3, window_seconds=10)
    assert [counter.observe(t) for t in (0, 5, 11, 12)] == [False, False, False, True]
    assert counter.timestamps == []
    counter.observe(20)
    assert not counter.is_idle(25) and counter.is_idle(30)


def test_load_rules_file_json_yaml_and_wrappers(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(rule(SSHD)))
    many = tmp_path / "many.yaml"
    many.write_text("rules:\n  - id: a\n    when: {field: message, op: exists}\n    then: [{action: drop}]\n")
    assert [r["id"] for r in load_rules_file(one)] == ["r"]  # type: ignore[index]
    assert [r["id"] for r in load_rules_file(many)] == ["a"]  # type: ignore[index]
    with pytest.raises(ValueError, match=r"\.json, \.yaml or \.yml"):
        load_rules_file(tmp_path / "rules.txt")


def test_a_condition_durable_rules_refuses_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with RuleEngine() as engine:
        engine.replace_all([rule(SSHD, rule_id="a")])
        host = engine.host._current
        real_call = host.call

        def refusing_call(request: tuple[Any, ...], timeout: float) -> Any:
            if request[0] == "register":
                return [(name, "error code: 204") for name, _ in request[1]]
            return real_call(request, timeout)

        monkeypatch.setattr(host, "call", refusing_call)
        with pytest.raises(RuleValidationError) as caught:
            engine.replace_all([rule(SSHD, rule_id="a"), rule({"field": "x", "op": "exists"}, rule_id="b")])
        [error] = caught.value.errors
        assert error.path == "$[1].when" and "error code: 204" in error.message
        assert engine.host._current is host  # a refusal is an answer, not a reason to replace the host
        assert engine.apply_batch([dict(RECORD)])[0].hits == ["a"]


def test_rule_results_compare_and_print_by_value() -> None:
    first, second = RuleResult({"message": "x"}), RuleResult({"message": "x"})
    assert first == second and first.hits == [] and first.hits is not second.hits
    assert RuleResult({}, hits=["r"]) != RuleResult({})
    assert RuleResult({}, dropped=True, dropped_by="r") == RuleResult({}, True, "r")
    assert repr(RuleResult({}, hits=["r"])) == (
        "RuleResult(record={}, dropped=False, dropped_by=None, hits=['r'], alerts=[], threshold_hits=[])"
    )


def test_fresh_results_are_what_the_constructor_builds() -> None:
    records: list[dict[str, Any]] = [{"message": "a"}, {}]
    fresh = RuleResult.fresh(records)
    assert fresh == [RuleResult(r) for r in records]
    assert fresh[0].record is records[0] and fresh[0].hits is not fresh[1].hits
    assert fresh[0].alerts is not fresh[1].alerts and fresh[0].threshold_hits is not fresh[1].threshold_hits


def test_decisions_are_reused_across_batches_and_forgotten_on_a_swap(
    engine: RuleEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted: list[int] = []
    evaluate = engine.host.evaluate

    def counting(requests: list[tuple[str, str]]) -> list[list[int]]:
        posted.append(sum(len(json.loads(facts)) for _, facts in requests))
        return evaluate(requests)

    monkeypatch.setattr(engine.host, "evaluate", counting)
    rules = [
        rule({"field": "message", "op": "contains", "value": "fail"}, rule_id="fail"),
        rule({"field": "log.level", "op": "eq", "value": "error"}, rule_id="error"),
    ]
    records = [
        {"message": "disk fail", "log": {"level": "error"}},
        {"message": "fail again", "log": {"level": "info"}},
        {"message": "ok", "log": {"level": "error"}},
    ]
    engine.replace_all(rules)
    first = engine.apply_batch(json.loads(json.dumps(records)))
    assert [r.hits for r in first] == [["error", "fail"], ["fail"], ["error"]]
    assert sum(posted) > 0
    posted.clear()
    again = engine.apply_batch(json.loads(json.dumps(records)))
    assert posted == []  # every fact was decided by durable-rules in the first batch
    assert [(r.hits, r.record) for r in again] == [(r.hits, r.record) for r in first]
    engine.replace_all([rule({"field": "message", "op": "contains", "value": "ok"}, rule_id="ok")])
    assert len(engine._decisions) == 0
    assert [r.hits for r in engine.apply_batch(json.loads(json.dumps(records)))] == [[], [], ["ok"]]
    assert sum(posted) > 0


def test_decisions_stay_bounded() -> None:
    decisions = Decisions(limit=2)
    for n in range(5):
        decisions.put("ruleset", n, n % 2 == 0)
        assert len(decisions) <= 2
    assert decisions.get("ruleset", 4) is True
    assert decisions.get("ruleset", 0) is None  # dropped when the table filled up
