"""Property tests: parsing never raises, always yields the core fields and keeps the raw bytes."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.parsing import ParseOptions, original_bytes, parse_message

OPTIONS = ParseOptions(clock=lambda: 1_700_000_000.0)
SMALL = ParseOptions(max_message_bytes=64, max_json_depth=2, max_labels=3, clock=lambda: 1_700_000_000.0)
SHALLOW = ParseOptions(max_json_depth=2, max_labels=3, clock=lambda: 1_700_000_000.0)

# Fragments of real headers, so generated lines reach deep into the format parsers, not just "unknown".
FRAGMENTS = [
    "Jun 14 15:16:01 ", "<34>", "<165>1 ", "2023-11-10T08:00:00.123+01:00 ", "2015-10-18 18:01:47,978 ",
    "I0511 14:33:27.919223    8794 file.go:230] ", "03-17 16:13:38.811  1702  2395 D Tag: ", " INFO ",
    "[main] ", "a.b.C: ", "host ", "proc[12]: ", "level=info ", 'msg="x \\" y" ', "{", "}", '"level":',
    '"msg":"', '"ts":1.5e9', "[", "]", '"', "\\", "\n", "\tat a.B.c(B.java:1)\n",
    "Traceback (most recent call last):\n",
    "\x1b[31m", "\x00", "\r", "=", ":", "-", " - ", "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] ",
    '"GET / HTTP/1.1" 200 5 ', "[Sun Dec 04 04:47:44 2005] [error] ", ", Info   CBS   ", "\ufeff", "é", "💥",
    "2024/03/14 10:21:33 [error] 12#0: ", "*5 ", ", client: ", "10.0.0.5", ", request: ", ", host: ",
    "[2024-03-14T10:21:33.123+0000]", "[0.5s]", "[info]", "[gc,heap ]", '{"t":{"$date":', '"s":"D2",', "nova.log ", "\tINFO\t", "\tmain.go:42\t", "2023-11-14T10:21:33.1Z stdout F ", " stderr P ", "10.0.0.1:5555 [14/Nov/2023:10:21:33.123] fe be/s ",
    "0/0/1/2/3 200 612 - - ---- 1/1/0/0/0 0/0 ",
]  # fmt: skip
structured_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=14).map(
    "".join
)
any_bytes = st.one_of(st.binary(max_size=300), structured_text.map(lambda s: s.encode("utf-8")))


def _check(record: dict, raw: bytes) -> None:
    assert isinstance(record["message"], str)
    assert isinstance(record["event"]["original"], str)
    assert isinstance(record["event"]["dataset"], str)
    assert record["@timestamp"].endswith("Z") and len(record["@timestamp"]) >= 24
    assert record["event"]["ingested"] == "2023-11-14T22:13:20.000Z"
    assert "_parse_error" not in record.get("tags", ()), record
    # Serialisable as strict UTF-8 JSON (what Kafka and Elasticsearch receive).
    json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(any_bytes)
def test_never_raises_and_round_trips_bytes(raw: bytes) -> None:
    record = parse_message(raw, OPTIONS)
    _check(record, raw)
    assert original_bytes(record) == raw


@settings(max_examples=300)
@given(structured_text)
def test_str_input_round_trips(text: str) -> None:
    record = parse_message(text, OPTIONS)
    _check(record, text.encode("utf-8", "surrogatepass"))
    assert original_bytes(record) == text.encode("utf-8", "surrogatepass")


@settings(max_examples=300)
@given(any_bytes)
def test_small_limits_never_raise(raw: bytes) -> None:
    record = parse_message(raw, SMALL)
    _check(record, raw)
    if len(raw) <= 64:
        assert original_bytes(record) == raw
    else:
        assert "_truncated" in record["tags"]
        assert raw.startswith(original_bytes(record))


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
        max_leaves=20,
    )
)
def test_arbitrary_json_objects(value: object) -> None:
    raw = json.dumps({"msg": "m", "level": "info", "data": value}).encode()
    record = parse_message(raw, SHALLOW)
    _check(record, raw)
    assert record["event"]["dataset"] == "json"
    assert all(isinstance(v, str) for v in record.get("labels", {}).values())
