import json
from datetime import UTC, datetime

import pytest

from common.schema.dead_letter import dead_letter
from common.schema.ecs import document_id, to_json
from common.schema.stats import DEAD_LETTERED, INDEXED, Stat, StatBatch, is_late, stat_for
from jobs.sinks.elasticsearch.request_builder import index_name


def test_document_id_is_deterministic_per_kafka_position() -> None:
    assert document_id("logs", 1, 42) == "logs:1:42"
    assert document_id("logs", 1, 42) == document_id("logs", 1, 42)
    assert document_id("logs", 0, 42) != document_id("logs", 1, 42)


def test_index_name_is_per_dataset_and_kafka_day() -> None:
    # 2026-11-22T23:59:59.999Z and one millisecond later fall on two days.
    assert index_name("logs", "nginx.access", 1795391999999) == "logs-nginx.access-2026.11.22"
    assert index_name("logs", "nginx.access", 1795392000000) == "logs-nginx.access-2026.11.23"


def test_index_name_sanitises_routed_datasets() -> None:
    assert index_name("logs", "My App/Prod*", 0) == "logs-my_app_prod_-1970.01.01"
    assert index_name("logs", "_hidden", 0) == "logs-hidden-1970.01.01"
    assert index_name("logs", "", 0) == "logs-unknown-1970.01.01"
    assert len(index_name("logs", "x" * 500, 0)) < 255


def test_stat_for_reads_dimensions_with_placeholders_for_missing() -> None:
    record = {"event": {"dataset": "syslog"}, "host": {"name": "web-1"}, "log": {"level": "error"}}
    assert stat_for(record, 5, INDEXED, ["r1"]) == (5, INDEXED, "syslog", "web-1", "error", ("r1",), 1, False)
    assert stat_for({}, 5, DEAD_LETTERED, [], late=True) == (
        5,
        DEAD_LETTERED,
        "unknown",
        "-",
        "-",
        (),
        1,
        True,
    )


def test_is_late_compares_the_watermark_with_the_window_end() -> None:
    # Window [60 s, 120 s): its last millisecond is 119_999.
    assert not is_late(61_000, 119_998, 60)
    assert is_late(61_000, 119_999, 60)
    assert not is_late(120_000, 119_999, 60)


def test_stat_batch_sums_per_window_and_dimensions_and_drains_once() -> None:
    batch = StatBatch(window_seconds=60)
    batch.add(Stat(61_000, INDEXED, "syslog", "h", "info", ("r",), 1, False))
    batch.add(Stat(119_999, INDEXED, "syslog", "h", "info", ("r",), 2, False))  # same window, same dimensions
    batch.add(Stat(120_000, INDEXED, "syslog", "h", "info", ("r",), 1, False))  # next window
    batch.add(Stat(61_000, DEAD_LETTERED, "syslog", "h", "info", ("r",), 1, False))
    batch.add(Stat(62_000, INDEXED, "syslog", "h", "info", ("r",), 1, True))  # late stays apart
    assert len(batch) == 4
    assert sorted(batch.drain()) == [
        (60_000, DEAD_LETTERED, "syslog", "h", "info", ("r",), 1, False),
        (60_000, INDEXED, "syslog", "h", "info", ("r",), 1, True),
        (60_000, INDEXED, "syslog", "h", "info", ("r",), 3, False),
        (120_000, INDEXED, "syslog", "h", "info", ("r",), 1, False),
    ]
    assert batch.drain() == []


def test_dead_letter_names_reason_and_source() -> None:
    import json

    letter = json.loads(
        dead_letter(
            "elasticsearch_mapper_parsing_exception",
            "bad ip",
            original="x",
            topic="logs",
            partition=1,
            offset=7,
            kafka_ts_ms=123,
            document='{"a":1}',
        )
    )
    assert letter["reason"] == "elasticsearch_mapper_parsing_exception"
    assert letter["error"]["message"] == "bad ip"
    assert letter["event"]["original"] == "x"
    assert letter["kafka"] == {"topic": "logs", "partition": 1, "offset": 7, "timestamp": 123}
    assert letter["document"] == '{"a":1}'


def test_to_json_writes_utf8_json_that_reads_back_the_same() -> None:
    document = {"message": "naïve ✓ 日本", "event": {"original": 'a\u0000b"c'}, "n": [1, 2.5, True, None]}
    body = to_json(document)
    assert "naïve ✓ 日本" in body  # UTF-8 as it is, not \\u escapes
    assert json.loads(body) == document


def test_to_json_falls_back_for_what_orjson_refuses() -> None:
    # A lone surrogate (JSON input may escape one) and an integer beyond 64 bits.
    document = {"message": "x\ud800y", "big": 2**70, "ok": "é"}
    assert json.loads(to_json(document)) == document


@pytest.mark.parametrize("document", [{"v": float("nan")}, {"v": [float("inf")], "s": "\udfff"}])
def test_to_json_writes_null_for_non_finite_numbers(document: dict[str, object]) -> None:
    # NaN is not JSON: Elasticsearch would refuse the whole document.
    assert "NaN" not in to_json(document) and "Infinity" not in to_json(document)
    assert json.loads(to_json(document))["v"] in (None, [None])


def test_to_json_writes_unknown_types_as_strings() -> None:
    assert json.loads(to_json({"when": datetime(2026, 11, 22, tzinfo=UTC), "set": {1}})) == {
        "when": "2026-11-22T00:00:00+00:00",
        "set": "{1}",
    }
