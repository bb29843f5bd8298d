"""Characters str.isdigit() accepts but int() refuses ("²") never cost a line its parse."""

import pytest

from common.parsing import parse_message

LINES = [
    "<34>1 2026-11-22T10:00:00Z host app ²3 ID47 - msg",
    "ts=2026-11-22T10:00:00Z level=info caller=main.go:²3 msg=hi",
    '{"level":"info","caller":"main.go:²","msg":"x"}',
    "Nov 22 10:00:00 web-1 sshd[²]: hi",
    '{"level":"info","ts":"1²3.5","msg":"x"}',
]


@pytest.mark.parametrize("line", LINES)
def test_superscript_digits_are_text_not_a_parser_error(line: str) -> None:
    record = parse_message(line.encode())
    assert "_parse_error" not in record.get("tags", [])
    assert record["event"]["dataset"] != "unknown"
