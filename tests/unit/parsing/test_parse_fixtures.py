"""Hand-written cases for every format and edge case (tests/fixtures/parsing/cases.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from common.parsing import ParseOptions, original_bytes, parse_message
from common.schema.ecs import get_field, has_field

CASES_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "parsing" / "cases.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def _raw(case: dict[str, Any]) -> bytes:
    if "line_hex" in case:
        return bytes.fromhex(case["line_hex"])
    return str(case["line"]).encode("utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    options = ParseOptions(timezone=case.get("timezone", "UTC"), clock=lambda: NOW)
    raw = _raw(case)
    record = parse_message(raw, options)
    for path, expected in (case.get("expect") or {}).items():
        actual = record.get(path) if path.startswith("@") else get_field(record, path)
        assert actual == expected, f"{path}: {actual!r} != {expected!r}\n{record}"
    for path in case.get("absent") or ():
        assert not has_field(record, path), f"{path} should be absent: {record}"
    for tag in case.get("tags") or ():
        assert tag in record.get("tags", []), f"missing tag {tag}: {record}"
    for tag in case.get("no_tags") or ():
        assert tag not in record.get("tags", []), f"unexpected tag {tag}: {record}"
    assert original_bytes(record) == raw
    assert record["event"]["ingested"] == "2023-11-14T22:13:20.000Z"


def test_every_documented_dataset_has_a_case() -> None:
    options = ParseOptions(clock=lambda: NOW)
    seen = {parse_message(_raw(case), options)["event"]["dataset"] for case in CASES}
    expected = {
        "syslog",
        "syslog.rfc5424",
        "journald",
        "klog",
        "logfmt",
        "json",
        "nginx.access",
        "apache.access",
        "apache.error",
        "log4j",
        "python",
        "android.logcat",
        "windows.cbs",
        "generic",
        "unknown",
    }
    assert expected <= seen
