"""The pre-filter is a shortcut only: it never changes which rules match.

Values are drawn from a tiny alphabet so that substrings, prefixes, required regex literals and
value sets hit often; the same batch is then decided with every pre-filter switched off
(no dataset index, no candidate checks, no necessary-condition checks in the facts).
"""

from __future__ import annotations

import copy
import json
from typing import Any
from unittest.mock import patch

import pytest
import re2
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rules_helpers import patches_the_engine

from common.rules import RuleEngine, RuleResult, validate_ruleset
from common.rules.compiled import Group, LiteralIndex, _keep
from common.rules.conditions import CHECK_NEEDLE, CHECK_PREFIX, MISSING, CompiledCondition, _Matches
from common.rules.regex import required_count, required_literal, search_test

ALPHABET = "ab. 1"
text = st.text(ALPHABET, max_size=8)
short = st.text("ab1", max_size=2)  # constants: short, so that they often occur in values
PATTERNS = [
    "ab",
    "a+b",
    "ab*a",
    r"a\.b",
    "^ab",
    "b$",
    "(a)b",
    "(?P<g>ab)a",
    "a|b",
    "a{2}",
    "ba{0,2}",
    "[ab]a",
    r"\bab\b",
    r"\d+\.",
    "(?:ab)+ba",
    "(?i)ab",
    "a.b",
    "ab?",
    r"\d+\.\d{1,3}\.",
    "a.ba+b",
]
FIELDS = ["message", "message", "log.level", "event.dataset", "process.pid", "tags"]


@st.composite
def leaf(draw: Any) -> dict[str, Any]:
    field = draw(st.sampled_from(FIELDS))
    op = draw(st.sampled_from(["eq", "ne", "in", "contains", "startswith", "matches", "exists", "gt"]))
    value: Any
    if op == "matches":
        value = draw(st.sampled_from(PATTERNS))
    elif op == "in":
        value = draw(st.lists(st.one_of(short, st.integers(0, 2)), min_size=1, max_size=3))
    elif op == "exists":
        value = draw(st.booleans())
    elif op == "gt":
        value = draw(st.integers(0, 2))
    else:
        value = draw(st.one_of(short, st.integers(0, 2)))
    return {"field": field, "op": op, "value": value}


nested = st.recursive(
    leaf(),
    lambda inner: st.one_of(
        st.fixed_dictionaries({"all": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"any": st.lists(inner, min_size=1, max_size=2)}),
        st.fixed_dictionaries({"not": inner}),
    ),
    max_leaves=3,
)
scope = st.sampled_from([[], [{"field": "event.dataset", "op": "eq", "value": "a"}]])
# Mostly top-level conjunctions of plain tests: those are what the pre-filter exploits.
condition = st.builds(
    lambda s, leaves: {"all": s + leaves},
    scope,
    st.lists(st.one_of(leaf(), leaf(), nested), min_size=1, max_size=3),
)
rule_ids = [f"r{i}" for i in range(6)]
rules = st.lists(st.sampled_from(rule_ids), min_size=1, max_size=6, unique=True).flatmap(
    lambda ids: st.tuples(*[st.fixed_dictionaries({"id": st.just(i), "when": condition}) for i in ids])
)
field_value = st.one_of(text, text, short, st.integers(0, 2), st.none(), st.lists(short, max_size=2))
record = st.fixed_dictionaries(
    {},
    optional={
        "message": field_value,
        "log": st.fixed_dictionaries({}, optional={"level": field_value}),
        "event": st.fixed_dictionaries({}, optional={"dataset": st.sampled_from(["a", "b", 1])}),
        "process": st.fixed_dictionaries({}, optional={"pid": field_value}),
        "tags": field_value,
    },
)


def outcome(results: list[RuleResult]) -> list[tuple[list[str], dict[str, Any]]]:
    return [(r.hits, r.record) for r in results]


@patches_the_engine
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_set=rules, records=st.lists(record, min_size=1, max_size=12))
def test_prefilter_never_changes_the_outcome(
    engine: RuleEngine, rule_set: tuple[dict[str, Any], ...], records: list[dict[str, Any]]
) -> None:
    # Each rule tags: later rules may see earlier tags (stages), as in real rule sets.
    full = [{**r, "then": [{"action": "tag", "value": r["id"]}]} for r in rule_set]
    assume(not validate_ruleset(full))
    engine.replace_all(full)
    unfiltered_input = copy.deepcopy(records)
    filtered = outcome(engine.apply_batch(records))
    with (
        patch.object(CompiledCondition, "datasets", property(lambda self: None)),
        patch.object(
            Group, "select", lambda self, records, indices, shared=None: [(c, indices) for c in self.all]
        ),
        patch.object(CompiledCondition, "fact", CompiledCondition.full_fact),
    ):
        engine.replace_all(full)  # re-planned without the dataset index
        unfiltered = outcome(engine.apply_batch(unfiltered_input))
    assert filtered == unfiltered


@patches_the_engine
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_set=rules, records=st.lists(record, min_size=1, max_size=12))
def test_the_literal_index_never_changes_the_outcome(
    engine: RuleEngine, rule_set: tuple[dict[str, Any], ...], records: list[dict[str, Any]]
) -> None:
    full = [{**r, "then": [{"action": "tag", "value": r["id"]}]} for r in rule_set]
    assume(not validate_ruleset(full))
    unindexed_input = copy.deepcopy(records)
    with patch("common.rules.compiled.LITERAL_INDEX_MIN", 1):  # every group indexes its literals
        engine.replace_all(full)
        indexed = outcome(engine.apply_batch(records))
    with patch("common.rules.compiled.LITERAL_INDEX_MIN", 10**9):
        engine.replace_all(full)
        unindexed = outcome(engine.apply_batch(unindexed_input))
    assert indexed == unindexed


# Literals and values over an alphabet with multi-byte and surrogate code points.
WIDE = "ab.é€\U0001f600\ud800"
literal_check = st.tuples(
    st.sampled_from([CHECK_NEEDLE, CHECK_PREFIX]), st.text(WIDE, min_size=1, max_size=3)
)
column_value = st.one_of(st.text(WIDE, max_size=8), st.text(WIDE, max_size=8), st.integers(0, 2), st.none())


@settings(max_examples=300, deadline=None)
@given(
    checks=st.lists(literal_check, min_size=1, max_size=20, unique=True),
    values=st.lists(st.one_of(column_value, st.just(MISSING)), max_size=10),
    failing=st.booleans(),
)
def test_a_literal_index_keeps_what_each_check_keeps(
    checks: list[tuple[int, str]], values: list[Any], failing: bool
) -> None:
    index = LiteralIndex(checks)
    assert index.usable
    if failing:  # what a search that ran out of memory answers: fall back to Python
        index._match = lambda data: []
    chosen = [i for i in range(len(values)) if i % 3 != 1]
    assert index.keep(values, chosen) == [_keep(kind, literal, values, chosen) for kind, literal in checks]


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(PATTERNS) | st.text("ab.()|*+?{}[]^$\\2,", max_size=8), subject=text)
def test_a_required_literal_is_in_every_match(pattern: str, subject: str) -> None:
    try:
        compiled = re2.compile(pattern)
    except re2.error:
        assume(False)
        return
    literal = required_literal(pattern)
    if literal is not None and compiled.search(subject) is not None:
        assert literal in subject


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(PATTERNS) | st.text("ab.()|*+?{}[]^$\\2,", max_size=8), subject=text)
def test_matches_and_its_search_test_are_the_plain_search(pattern: str, subject: str) -> None:
    try:
        compiled = re2.compile(pattern)
    except re2.error:
        assume(False)
        return
    count = required_count(pattern)
    if count is not None and compiled.search(subject) is not None:
        assert subject.count(count[0]) >= count[1]
    expected = compiled.search(subject) is not None
    assert _Matches(pattern)(subject) == expected
    # The search test under it, whether its RE2 set works, ran out of memory (it then answers
    # nothing, not even its guard) or could not be built at all.
    assert search_test(pattern)(subject) == expected
    assert search_test(pattern, set_search=lambda _: lambda _data: [])(subject) == expected
    assert search_test(pattern, set_search=lambda _: None)(subject) == expected


@pytest.mark.parametrize("pattern", ["a.b", "a[^x]b", r"a\\Cb", "é", "a"])
@pytest.mark.parametrize("subject", ["a\ud800b", "a\u00e9b", "\udfff"])
def test_a_search_test_reads_lone_surrogates_as_a_search_does(pattern: str, subject: str) -> None:
    plain = search_test(pattern, set_search=lambda _: None)
    assert search_test(pattern)(subject) == plain(subject)


def test_required_counts() -> None:
    assert required_count(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b") == (".", 3)
    assert required_count("ab+a") == ("a", 2)
    assert required_count("ab*a") == ("a", 2)
    assert required_count("a(b)*a|a") is None
    assert required_count("abc") is None  # once each: the required literal already says so


def test_required_literals() -> None:
    assert required_literal(r"\bInvalid user (\S+) from") == "Invalid user "
    assert required_literal("ab+c") == "ab"  # "abbc" has "ab" and "c" but not "abc"
    assert required_literal("ab*c") == "a"
    assert required_literal("x(a|b)yz") == "yz"
    assert required_literal("a|bc") is None
    assert required_literal("(?i)abc") is None
    assert required_literal(r"\Qa.b\E") is None
    assert required_literal("[[:alpha:]]+ms") == "ms"
    assert required_literal("a{,2}") is None  # RE2 reads "{,2}" literally


# Numbers that are equal in Python but not in JSON (or not for durable-rules' typed keys).
alike = st.sampled_from([0, 1, 0.0, -0.0, 1.0, True, False, "1", "a"])
dedup_value = st.one_of(alike, alike, field_value)
dedup_record = st.fixed_dictionaries(
    {},
    optional={
        "message": dedup_value,
        "log": st.fixed_dictionaries({}, optional={"level": dedup_value}),
        "event": st.fixed_dictionaries({}, optional={"dataset": st.sampled_from(["a", "b"])}),
        "process": st.fixed_dictionaries({}, optional={"pid": dedup_value}),
    },
)


@patches_the_engine
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_set=rules, records=st.lists(dedup_record, min_size=1, max_size=12))
def test_posting_equal_facts_once_never_changes_the_outcome(
    engine: RuleEngine, rule_set: tuple[dict[str, Any], ...], records: list[dict[str, Any]]
) -> None:
    full = [{**r, "then": [{"action": "tag", "value": r["id"]}]} for r in rule_set]
    assume(not validate_ruleset(full))
    each_input = copy.deepcopy(records)
    # Without the pre-filter every record's fact is posted, so facts that differ meet often.
    with (
        patch.object(
            Group, "select", lambda self, records, indices, shared=None: [(c, indices) for c in self.all]
        ),
        patch.object(CompiledCondition, "fact", CompiledCondition.full_fact),
    ):
        engine.replace_all(full)
        shared = outcome(engine.apply_batch(records))
        with patch("common.rules.decide.fact_key", lambda fact: object()):  # each fact posted alone
            each = outcome(engine.apply_batch(each_input))
    assert shared == each


def test_records_with_equal_facts_share_one_posted_fact(engine: RuleEngine) -> None:
    engine.replace_all(
        [
            {
                "id": "r",
                "when": {"field": "message", "op": "contains", "value": "x"},
                "then": [{"action": "tag", "value": "t"}],
            }
        ]
    )
    with patch.object(engine.host, "evaluate", wraps=engine.host.evaluate) as evaluate:
        results = engine.apply_batch([{"message": m} for m in ["ax", "b", "xx", "x"]])
    [(_name, facts)] = evaluate.call_args.args[0]
    assert len(json.loads(facts)) == 1
    assert [r.hits for r in results] == [["r"], [], ["r"], ["r"]]
