"""Offline dry run: parse lines, apply rules, describe each line's outcome (``logflow rules test``).

The rules API's test endpoint calls ``dry_run`` too, so both show exactly what the job would do.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from common.rules.engine import RuleEngine, RuleResult
from common.rules.options import RuleEngineOptions
from common.rules.validate import RuleValidationError, validate_ruleset

BATCH_SIZE = 512


def describe(result: RuleResult) -> dict[str, Any]:
    """The output object for one line: the record, or a drop notice; alerts ride along."""
    if result.dropped:
        original = (
            result.record.get("event", {}).get("original")
            if isinstance(result.record.get("event"), dict)
            else None
        )
        out: dict[str, Any] = {
            "dropped": True,
            "rule": {"id": result.dropped_by},
            "event": {"original": original},
        }
    else:
        out = dict(result.record)
    if result.alerts:
        out["alerts"] = result.alerts
    return out


def dry_run(
    rules: Sequence[Mapping[str, Any]],
    lines: Iterable[str | bytes],
    *,
    options: RuleEngineOptions | None = None,
    parse_options: Any = None,
) -> Iterator[dict[str, Any]]:
    """One output object per input line. Raises ``RuleValidationError`` for an invalid rule set."""
    errors = validate_ruleset(list(rules))
    if errors:
        raise RuleValidationError(errors)
    # Imported late: the parser is a separate area, and validation or the engine do not need it.
    parse_message = importlib.import_module("common.parsing").parse_message

    # A dry run is short-lived and never recycles its host: no warm spare process.
    base = options or RuleEngineOptions.from_env()
    with RuleEngine(dataclasses.replace(base, warm_spare=False)) as engine:
        engine.replace_all(rules)
        iterator = iter(lines)
        while batch := list(islice(iterator, BATCH_SIZE)):
            records = [parse_message(_strip_newline(line), parse_options) for line in batch]
            for result in engine.apply_batch(records):
                yield describe(result)


def _strip_newline(line: str | bytes) -> str | bytes:
    if isinstance(line, bytes):
        return line.rstrip(b"\r\n")
    return line.rstrip("\r\n")
