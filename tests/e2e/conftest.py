from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from e2e_harness import Pipeline


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    """One private pipeline (topics, rules API, Flink job) per test module, torn down after it.

    The root conftest's stack gate runs before any fixture, so this never starts against a missing
    stack.
    """
    instance = Pipeline(suffix=uuid.uuid4().hex[:10])
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()
