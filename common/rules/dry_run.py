"""Offline dry run: parse lines, apply rules, describe each line's outcome (``logflow rules test``).

The per-line work is ``common.processing.parse_and_apply``, the function the job runs on every
batch, so the dry run shows exactly what the job would do; the rules API's test endpoint calls
``dry_run`` too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from common.parsing import ParseOptions, parse_message
from common.rules.engine import RuleEngine, RuleResult
from common.rules.options import RuleEngineOptions
from common.rules.validate import RuleValidationError, validate_ruleset
from common.schema.ecs import EcsRecord

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
    parse_options: ParseOptions | None = None,
) -> Iterator[dict[str, Any]]:
    """One output object per input line. Raises ``RuleValidationError`` for an invalid rule set,
    and the engine's error when the rules fail on a line (the job would dead-letter it)."""
    errors = validate_ruleset(list(rules))
    if errors:
        raise RuleValidationError(errors)

    # Here, not at the top: common.processing imports the rules engine, so importing it while
    # common.rules initialises would be a cycle.
    from common.processing import parse_and_apply

    def decode(line: str | bytes) -> tuple[EcsRecord]:
        return (parse_message(_strip_newline(line), parse_options),)

    # A dry run is short-lived and never recycles its host: no warm spare process.
    base = options or RuleEngineOptions.from_env()
    with RuleEngine(dataclasses.replace(base, warm_spare=False)) as engine:
        engine.replace_all(rules)
        iterator = iter(lines)
        while batch := list(islice(iterator, BATCH_SIZE)):
            processed = parse_and_apply(batch, decode, engine)
            if processed.failures:
                raise processed.failures[0].error
            for outcome in processed.outcomes:
                yield describe(outcome.result)


def _strip_newline(line: str | bytes) -> str | bytes:
    if isinstance(line, bytes):
        return line.rstrip(b"\r\n")
    return line.rstrip("\r\n")
