"""The SQL pieces of the batching query, run by Flink itself (a local batch TableEnvironment).

The streaming query needs Kafka and processing time; what it relies on Flink for can be checked
without them: the epoch-millisecond expression in any session zone and across 2038, and
ARRAY_AGG keeping parallel arrays aligned with NULL payloads among the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jobs.sources.kafka import _EPOCH_MS

pytestmark = [pytest.mark.integration, pytest.mark.stack_services()]

INSTANTS_MS = [
    0,
    1_711_846_799_999,  # the last millisecond before a DST change in Europe
    1_784_000_001_234,  # summer time in New York
    1_795_392_001_999,
    2_240_000_001_234,  # after 2038, where INT seconds would overflow
]


@pytest.fixture(scope="module")
def table_env() -> Iterator[Any]:
    from pyflink.table import EnvironmentSettings, TableEnvironment

    yield TableEnvironment.create(EnvironmentSettings.in_batch_mode())


def _rows(table_env: Any, query: str) -> list[Any]:
    with table_env.execute_sql(query).collect() as results:
        return list(results)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_epoch_milliseconds_of_kafka_timestamps_in_any_session_zone(table_env: Any, zone: str) -> None:
    table_env.get_config().set("table.local-time-zone", zone)
    values = ", ".join(f"(TO_TIMESTAMP_LTZ({ms}, 3))" for ms in INSTANTS_MS)
    expression = _EPOCH_MS.replace("`kafka_ts`", "ts")
    rows = _rows(table_env, f"SELECT {expression} FROM (VALUES {values}) AS v(ts)")
    assert sorted(row[0] for row in rows) == INSTANTS_MS


def test_array_agg_keeps_payloads_offsets_and_times_aligned(table_env: Any) -> None:
    table_env.get_config().set("table.local-time-zone", "UTC")
    values = ", ".join(
        f"(CAST({offset} AS BIGINT), "
        + ("CAST(NULL AS BYTES)" if offset % 3 == 0 else f"CAST(X'{offset:04x}' AS BYTES)")
        + f", TO_TIMESTAMP_LTZ({1_795_392_000_000 + offset}, 3))"
        for offset in range(50)
    )
    expression = _EPOCH_MS.replace("`kafka_ts`", "ts")
    rows = _rows(
        table_env,
        f"SELECT ARRAY_AGG(COALESCE(p, X'')), ARRAY_AGG(o), ARRAY_AGG({expression}) "
        f"FROM (VALUES {values}) AS v(o, p, ts) GROUP BY MOD(o, 2)",
    )
    seen = 0
    for payloads, offsets, stamps in rows:
        assert len(payloads) == len(offsets) == len(stamps)
        for payload, offset, stamp in zip(payloads, offsets, stamps, strict=True):
            assert bytes(payload) == (b"" if offset % 3 == 0 else offset.to_bytes(2, "big"))
            assert stamp == 1_795_392_000_000 + offset
            seen += 1
    assert seen == 50
