"""The demo samples in deploy/samples parse cleanly (they are what the pipeline is shown with)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from common.parsing import ParseOptions, original_bytes, parse_message

SAMPLES = Path(__file__).resolve().parents[3] / "deploy" / "samples"
OPTIONS = ParseOptions(clock=lambda: 1_700_000_000.0)


def test_mixed_sample_covers_every_format_and_loses_nothing() -> None:
    lines = [line for line in (SAMPLES / "mixed.log").read_bytes().split(b"\n") if line]
    assert len(lines) >= 300
    datasets: Counter[str] = Counter()
    for line in lines:
        record = parse_message(line, OPTIONS)
        assert "_parse_error" not in record.get("tags", ()), record
        assert original_bytes(record) == line
        datasets[record["event"]["dataset"]] += 1
    for dataset in ("syslog", "syslog.rfc5424", "journald", "klog", "logfmt", "json", "nginx.access"):
        assert datasets[dataset] > 0, datasets
    for dataset in ("apache.access", "apache.error", "log4j", "python", "android.logcat", "windows.cbs"):
        assert datasets[dataset] > 0, datasets
    assert datasets["unknown"] < len(lines) * 0.15, datasets


def test_loghub_lines_travel_with_their_license() -> None:
    assert "loghub" in (SAMPLES / "LICENSE.loghub").read_text().lower()


def test_multiline_samples_are_one_record_each() -> None:
    for path in sorted((SAMPLES / "multiline").glob("*.log")):
        record = parse_message(path.read_bytes(), OPTIONS)
        assert record["error"]["type"], path
        assert record["error"]["stack_trace"], path
        assert record["log"]["level"] == "error"
