"""jsoncodec decodes and encodes exactly as the standard ``json`` module does (it only is cheaper)."""

from __future__ import annotations

import json
import json.scanner
from typing import Any

import pytest

from common.parsing import jsoncodec

_scan_once = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]

# What orjson refuses or reads otherwise than json: the fallback must give json's value.
TEXTS = [
    '{"n":123456789012345678901234567890}',
    '{"n":18446744073709551616,"m":-9223372036854775809}',
    '{"n":18446744073709551615,"m":-9223372036854775808}',
    '{"deep":{"list":[1,{"n":99999999999999999999999}]}}',
    '{"big":1e300,"huge":1e400,"neg":-1e400}',
    '{"nan":NaN,"inf":Infinity}',
    '{"s":"\\ud800","t":"\\ud83d\\ude00"}',
    '{"a":1,"a":2,"b":{"x":1},"b":{"y":2}}',
    '{"f":[0.1,1.5e-7,-0.0,3.0,2e-5,1e16]}',
    '{"x":' + "[" * 3000 + "]" * 3000 + "}",
    '{"a":1}x}',
    '{"a":1} ',
    "{}",
]


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 and 1.0 differ here) and NaN equal to itself."""
    return json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False) and type(a) is type(b)


@pytest.mark.parametrize("text", TEXTS)
def test_loads_object_gives_the_standard_scanners_value_and_end(text: str) -> None:
    try:
        expected = _scan_once(text, 0)
    except RecursionError:
        with pytest.raises(RecursionError):
            jsoncodec.loads_object(text)
        return
    got = jsoncodec.loads_object(text)
    assert got[1] == expected[1]
    assert _same(got[0], expected[0])


@pytest.mark.parametrize("text", [t for t in TEXTS if t.endswith("}") and not t.endswith("x}")])
def test_loads_gives_json_loads_value(text: str) -> None:
    try:
        expected = json.loads(text)
    except RecursionError:
        return
    assert _same(jsoncodec.loads(text), expected)


def test_integers_beyond_64_bits_stay_exact_in_labels() -> None:
    from common.parsing import ParseOptions, parse_message

    rec = parse_message(b'{"msg":"m","n":123456789012345678901234567890}', ParseOptions(clock=lambda: 0.0))
    assert rec["labels"]["n"] == "123456789012345678901234567890"


@pytest.mark.parametrize(
    "value",
    [
        ["10.244.2.9"],
        {"a": {"b": 1.5, "c": [1, "x", None, True]}},
        {"é": '\u2028\x01"\\'},
        1e-05,
        float("nan"),
        "x",
    ],
)
def test_dumps_writes_what_json_dumps_writes(value: Any) -> None:
    assert jsoncodec.dumps(value) == json.dumps(value, ensure_ascii=False)
    assert jsoncodec.dumps_compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
