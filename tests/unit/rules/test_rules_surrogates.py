"""Strings with lone surrogates (JSON input may carry "\\ud800" escapes) never crash evaluation."""

from __future__ import annotations

from common.rules import RuleEngine

RULES = [
    {
        "id": "has-error",
        "when": {"field": "message", "op": "matches", "value": "err(or)?"},
        "then": [
            {
                "action": "extract",
                "field": "message",
                "pattern": "user=(?P<u>\\w+)",
                "into": {"u": "user.name"},
            },
            {"action": "mask", "field": "message", "pattern": "secret\\w*", "replacement": "***"},
        ],
    }
]


def test_matches_extract_and_mask_take_lone_surrogates() -> None:
    with RuleEngine() as engine:
        engine.replace_all(RULES)
        [hit, miss] = engine.apply_batch(
            [
                {"message": "error \ud800 user=bob secret42", "event": {"dataset": "json"}},
                {"message": "fine \udfff", "event": {"dataset": "json"}},
            ]
        )
    assert hit.hits == ["has-error"]
    assert hit.record["user"] == {"name": "bob"}
    assert hit.record["message"] == "error \ufffd user=bob ***"
    assert miss.hits == [] and miss.record["message"] == "fine \udfff"


def test_a_lone_surrogate_is_one_character_to_matches() -> None:
    # As in Python's own str: "." and a negated class take the surrogate as one character.
    patterns = ["^a.b$", "^a..b$", "^a[^x]b$", "^a[^x]{3}b$"]
    matched = []
    with RuleEngine() as engine:
        for pattern in patterns:
            engine.replace_all(
                [
                    {
                        "id": "r",
                        "when": {"field": "message", "op": "matches", "value": pattern},
                        "then": [{"action": "tag", "value": "x"}],
                    }
                ]
            )
            [result] = engine.apply_batch([{"message": "a\ud800b", "event": {"dataset": "json"}}])
            matched.append(result.hits == ["r"])
    assert matched == [True, False, True, False]
