from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from common.rules import RuleEngine, RuleResult


@pytest.fixture(scope="session")
def engine() -> Iterator[RuleEngine]:
    # One engine host for the whole session: starting a process per test would dominate run time.
    with RuleEngine() as shared:
        yield shared


@pytest.fixture
def run(engine: RuleEngine) -> Any:
    def apply(rules: Sequence[Mapping[str, Any]], records: list[dict[str, Any]]) -> list[RuleResult]:
        engine.replace_all(rules)
        return engine.apply_batch(records)

    return apply
