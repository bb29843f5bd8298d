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
