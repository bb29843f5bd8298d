"""Table tests against the loghub ground truth: @timestamp (time of day), log.level, message, host.name.

The corpus is in the repo (``tests/data/loghub``, see its README for the licence and citation). The
Mac, OpenSSH, OpenStack and Spark layouts are not in it; fixture cases in tests/fixtures/parsing cover them.
"""

from __future__ import annotations

import pytest
from parse_loghub import OPTIONS, SETS, SetSpec, rows, score

from common.parsing import parse_message

STANDARD = [s for s in SETS if s.standard]
NON_STANDARD = [s for s in SETS if not s.standard]
REQUIRED = 0.97


@pytest.mark.parametrize("spec", STANDARD, ids=[s.name for s in STANDARD])
def test_standard_format_accuracy(spec: SetSpec) -> None:
    result = score(spec, keep_failures=3)
    print(
        f"{spec.name}: all={result.rate(result.all_fields):.1%} ts={result.rate(result.timestamp):.1%} "
        f"level={result.rate(result.level):.1%} message={result.rate(result.message):.1%} "
        f"host={result.rate(result.host):.1%}"
    )
    assert result.lines == 2000
    examples = "\n".join(f"  {line!r}\n  -> {rec}\n  csv {row}" for line, rec, row in result.failures)
    for field_name in ("timestamp", "level", "message", "host"):
        rate = result.rate(getattr(result, field_name))
        assert rate >= REQUIRED, f"{spec.name} {field_name} {rate:.1%} < {REQUIRED:.0%}\n{examples}"


@pytest.mark.parametrize("spec", NON_STANDARD, ids=[s.name for s in NON_STANDARD])
def test_non_standard_sets_parse_without_errors(spec: SetSpec) -> None:
    """Non-standard layouts need not match the CSV, but every line yields a sane record."""
    result = score(spec)
    print(
        f"{spec.name} (non-standard): all={result.rate(result.all_fields):.1%} "
        f"ts={result.rate(result.timestamp):.1%} level={result.rate(result.level):.1%} "
        f"message={result.rate(result.message):.1%}"
    )
    assert result.lines == 2000
    for line, _ in rows(spec):
        record = parse_message(line, OPTIONS)
        assert "_parse_error" not in record.get("tags", ()), record
        assert record["message"], record
