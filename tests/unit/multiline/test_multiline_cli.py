"""``logflow multiline``: joins stdin as one stream and prints each event; ``--check`` validates."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from common.multiline import JoinRule
from common.multiline.cli import join_stream

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "multiline"


def test_join_stream_prints_one_object_per_event() -> None:
    sink = io.StringIO()
    rule = JoinRule("auto", builtin="auto")
    source = io.BytesIO((FIXTURES / "node-error.log").read_bytes())
    assert join_stream(source, sink, lambda topic, source: rule, "app", "h|/var/log/app.log") == 0
    events = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [e["line_count"] for e in events] == [1, 6, 1, 2, 1]
    assert events[1]["id"] == "app:0:1" and events[1]["offsets"] == [1, 6]
    assert events[1]["text"].startswith("2024-03-02T14:11:20.517Z error: unhandled rejection")


def test_command_line_reports_a_bad_document_with_its_path(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: x, condition_pattern: 'a', mode: sideways}\n")
    done = subprocess.run(
        [sys.executable, "-m", "common.cli", "multiline", "--check", "--rules", str(rules)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "$.rules[0].mode" in done.stderr and "sideways" in done.stderr
