"""Schemathesis fuzzing of every operation in /openapi.json, with the real Kafka and Redis behind
the API: whatever it sends, the API must never answer with a 5xx.

Operations are driven through schemathesis' Hypothesis strategies directly (its pytest plugin does
not run under the pytest version pinned here).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from api_stack import Isolation, Server
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err

pytestmark = pytest.mark.integration

# Bounded so the whole fuzz run stays within a couple of minutes on two cores.
EXAMPLES_PER_OPERATION = 30


def test_no_operation_answers_a_server_error(server: Server, isolation: Isolation) -> None:
    document = httpx.get(f"{server.url}/openapi.json", headers=isolation.auth("viewer"), timeout=15)
    document.raise_for_status()
    schema = schemathesis.openapi.from_dict(document.json())
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"the schema has an invalid operation: {result.err()}")
            continue
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                base_url=server.url,
                headers=isolation.auth("admin"),
                checks=[not_a_server_error],
                timeout=30,
            )

        try:
            fuzz()
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 12
    assert not failures, "\n\n".join(failures)
