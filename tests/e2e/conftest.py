from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from e2e_harness import Pipeline, running_pipeline


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Quarantined tests (each says why) run only with LOGFLOW_QUARANTINED_TESTS=1: they are kept,
    visible as skips with their reason, and out of `make test` until the reason is found."""
    if os.environ.get("LOGFLOW_QUARANTINED_TESTS") == "1":
        return
    for item in items:
        marker = item.get_closest_marker("quarantined")
        if marker is not None:
            reason = marker.args[0] if marker.args else "quarantined"
            item.add_marker(
                pytest.mark.skip(reason=f"quarantined (LOGFLOW_QUARANTINED_TESTS=1 runs it): {reason}")
            )


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    """One private pipeline (topics, rules API, Flink job) per test module, torn down after it.

    The root conftest's stack gate runs before any fixture, so this never starts against a missing
    stack.
    """
    with running_pipeline() as instance:
        yield instance
