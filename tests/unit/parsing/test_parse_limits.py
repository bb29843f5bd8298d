"""Bad input, limits, options, timestamps and levels."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.parsing import ParseOptions, original_bytes, parse_message
from common.parsing.cli import parse_stream
from common.parsing.context import Context
from common.parsing.levels import normalize_level
from common.parsing.timestamps import from_epoch, resolve_zone, to_iso

NOW = 1_700_000_000.0
OPTIONS = ParseOptions(clock=lambda: NOW)


def test_megabyte_line_is_truncated_with_tag() -> None:
    raw = b"Jun 14 15:16:01 combo app[1]: " + b"x" * (2 * 1024 * 1024)
    record = parse_message(raw, ParseOptions(max_message_bytes=4096, clock=lambda: NOW))
    assert "_truncated" in record["tags"]
    assert len(record["event"]["original"].encode()) <= 4096
    assert record["event"]["dataset"] == "syslog"
    assert record["message"].startswith("xxx")


def test_truncation_never_splits_a_utf8_character() -> None:
    raw = "é" * 100
    record = parse_message(raw, ParseOptions(max_message_bytes=65, clock=lambda: NOW))
    assert record["event"]["original"] == "é" * 32
    assert "_invalid_utf8" not in record["tags"]


def test_deeply_nested_json_is_bounded() -> None:
    raw = '{"msg":"deep","a":' + '{"b":' * 50 + "1" + "}" * 50 + "}"
    record = parse_message(raw, ParseOptions(max_json_depth=4, clock=lambda: NOW))
    assert record["message"] == "deep"
    assert "_json_depth_limited" in record["tags"]
    assert all(isinstance(v, str) for v in record["labels"].values())
    assert max(len(k.split("_")) for k in record["labels"]) <= 4


def test_pathologically_nested_json_does_not_crash() -> None:
    raw = "{" + '"a":{' * 100_000 + "}" * 100_001
    record = parse_message(raw, ParseOptions(max_message_bytes=2_000_000, clock=lambda: NOW))
    assert record["event"]["original"] == raw
    assert "_parse_error" not in record.get("tags", ())


def test_huge_json_object_caps_labels() -> None:
    raw = json.dumps({"msg": "wide", **{f"k{i}": i for i in range(5000)}})
    record = parse_message(raw, ParseOptions(max_labels=100, clock=lambda: NOW))
    assert len(record["labels"]) == 100
    assert "_labels_truncated" in record["tags"]


def test_ecs_json_with_bad_timestamp_uses_ingest_time() -> None:
    record = parse_message('{"@timestamp":"yesterday","message":"m"}', OPTIONS)
    assert record["@timestamp"] == "2023-11-14T22:13:20.000Z"
    assert "_timestamp_failure" in record["tags"]


def test_lone_surrogates_in_str_input_are_escaped() -> None:
    raw = "abc\udcff"
    record = parse_message(raw, OPTIONS)
    assert "_invalid_utf8" in record["tags"]
    json.dumps(record, ensure_ascii=False).encode("utf-8")
    assert original_bytes(record) == raw.encode("utf-8", "surrogatepass")


def test_literal_backslash_x_survives_round_trip() -> None:
    raw = b"path C:\\xff\\new \xfe"
    record = parse_message(raw, OPTIONS)
    assert original_bytes(record) == raw


def test_a_parser_bug_costs_a_tag_not_the_line() -> None:
    # The parsers may be compiled (deploy/native.py), and compiled modules call each other
    # directly, past any monkeypatch: the fault is injected through the one callable the caller
    # supplies, the clock, which fails the first time parsing asks it.
    calls = iter([RuntimeError("bug")])

    def clock() -> float:
        failure = next(calls, None)
        if failure is not None:
            raise failure
        return 1_700_000_000.0

    record = parse_message(b"Jun 14 15:16:01 combo app[1]: x", ParseOptions(clock=clock))
    assert record["message"] == "Jun 14 15:16:01 combo app[1]: x"
    assert {"_parse_failure", "_parse_error"} <= set(record["tags"])


def test_options_from_env() -> None:
    options = ParseOptions.from_env(
        {
            "LOGFLOW_PARSE_TIMEZONE": "America/New_York",
            "LOGFLOW_PARSE_MAX_BYTES": "1000",
            "LOGFLOW_PARSE_MAX_JSON_DEPTH": "5",
            "LOGFLOW_PARSE_MAX_LABELS": "7",
        }
    )
    assert (options.timezone, options.max_message_bytes, options.max_json_depth, options.max_labels) == (
        "America/New_York",
        1000,
        5,
        7,
    )
    assert ParseOptions.from_env({}) == ParseOptions()


@pytest.mark.parametrize(
    "env",
    [
        {"LOGFLOW_PARSE_TIMEZONE": "Mars/Olympus"},
        {"LOGFLOW_PARSE_MAX_BYTES": "lots"},
        {"LOGFLOW_PARSE_MAX_BYTES": "1"},
    ],
)
def test_bad_options_are_rejected_up_front(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        ParseOptions.from_env(env)


def test_dst_gap_and_offsets() -> None:
    berlin = resolve_zone("Europe/Berlin")
    assert to_iso(NOW, berlin, 2023, 1, 15, 12, 0, 0) == "2023-01-15T11:00:00.000Z"
    assert to_iso(NOW, berlin, 2023, 7, 15, 12, 0, 0) == "2023-07-15T10:00:00.000Z"
    utc = resolve_zone("UTC")
    assert to_iso(NOW, utc, 2023, 12, 31, 23, 30, 0, "5", 3600) == "2023-12-31T22:30:00.500Z"
    assert to_iso(NOW, utc, 2024, 1, 1, 0, 30, 0, "", -3600) == "2024-01-01T01:30:00.000Z"
    assert to_iso(NOW, utc, 2023, 2, 29, 0, 0, 0) is None
    assert to_iso(NOW, utc, 2024, 2, 29, 0, 0, 0) == "2024-02-29T00:00:00.000Z"
    assert to_iso(NOW, utc, 2023, 13, 1, 0, 0, 0) is None
    assert to_iso(NOW, utc, None, 2, 29, 0, 0, 0) == "2020-02-29T00:00:00.000Z"


def test_epochs_of_every_unit() -> None:
    assert from_epoch(1699603200) == "2023-11-10T08:00:00.000Z"
    assert from_epoch(1699603200123) == "2023-11-10T08:00:00.123Z"
    assert from_epoch(1699603200123456) == "2023-11-10T08:00:00.123456Z"
    assert from_epoch(1699603200123456789) == "2023-11-10T08:00:00.123456Z"
    assert from_epoch("1699603200.5") == "2023-11-10T08:00:00.500Z"
    assert from_epoch(float("inf")) is None
    assert from_epoch(10**30) is None


@pytest.mark.parametrize(
    ("source", "level"),
    [
        ("WARNING", "warn"), ("W", "warn"), ("I", "info"), ("E", "error"), ("F", "fatal"), ("D", "debug"),
        ("V", "trace"), ("err", "error"), ("CRIT", "critical"), ("emerg", "emergency"), ("SEVERE", "error"),
        ("Notice", "notice"), (10, "trace"), (30, "info"), (40, "warn"), (60, "fatal"), ("50", "error"),
        (3, "error"), ("[INFO]", "info"), ("dpanic", "critical"), ("nonsense", None), (True, None),
    ],
)  # fmt: skip
def test_level_normalisation(source: object, level: str | None) -> None:
    assert normalize_level(source) == level


def test_cli_stream_one_record_per_non_empty_line_in_order() -> None:
    source = io.BytesIO(b"first line\n\nJun 14 15:16:01 combo app[1]: two\rthree\n\xff\nlast")
    sink = io.StringIO()
    assert parse_stream(source, sink, OPTIONS) == 0
    records = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [r["event"]["original"] for r in records] == [
        "first line",
        "Jun 14 15:16:01 combo app[1]: two\rthree",
        "\\xff",
        "last",
    ]
    assert records[1]["process"]["name"] == "app"


@given(
    st.one_of(st.none(), st.integers(1970, 2100).map(lambda y: f"{y:04d}")),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 60),
    st.integers(0, 61),
    st.text("0123456789", max_size=9),
    st.floats(0, 4_000_000_000),
)
def test_fast_stamp_path_agrees_with_the_general_one(
    year: str | None, month: int, day: int, hour: int, minute: int, second: int, frac: str, now: float
) -> None:
    ctx = Context(ParseOptions(), now)
    fast = ctx.stamp_text(
        year, f"{month:02d}", f"{day:02d}", f"{hour:02d}", f"{minute:02d}", f"{second:02d}", frac
    )
    slow = to_iso(now, ctx.zone, None if year is None else int(year), month, day, hour, minute, second, frac)
    assert fast == slow
