"""Parse, then apply the rules: the per-event core that the job and ``logflow rules test`` both run.

Framework-free. A caller hands over its inputs (the job: Kafka records; the dry run: lines) and a
``decode`` that turns one input into the ECS records it holds — one for a log line, possibly
several for a message that bundles records (OTLP) — and gets back, per record, what the rules did.
Nothing consumed is lost silently: an input whose decoding raises, or a record the rules engine
fails on, comes back as a ``Failure`` naming the input and the error, for the caller to report
(the job dead-letters it). The engine evaluates the whole batch in one round trip; only when that
fails are the records retried one by one, so a record the engine cannot handle costs that record
only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from common.rules.engine import RuleResult
from common.schema.ecs import EcsRecord

log = logging.getLogger(__name__)

S = TypeVar("S")


class RuleApplier(Protocol):
    """What the core needs of the rules: ``common.rules.RuleEngine`` is one."""

    def apply_batch(self, records: list[EcsRecord]) -> list[RuleResult]: ...


@dataclass(frozen=True)
class Outcome(Generic[S]):
    """What the rules did to the ``index``-th record decoded from ``source``."""

    source: S
    index: int
    result: RuleResult


@dataclass(frozen=True)
class Failure(Generic[S]):
    """An input that could not be decoded, or one of its records the rules failed on."""

    source: S
    error: Exception


@dataclass
class Processed(Generic[S]):
    outcomes: list[Outcome[S]] = field(default_factory=list)  # in input order
    failures: list[Failure[S]] = field(default_factory=list)  # decoding's first, then the rules'


def parse_and_apply(
    sources: Sequence[S], decode: Callable[[S], Iterable[EcsRecord]], rules: RuleApplier
) -> Processed[S]:
    processed: Processed[S] = Processed()
    decoded: list[tuple[S, int]] = []
    records: list[EcsRecord] = []
    for source in sources:
        try:
            # Whole before kept: an input that fails halfway yields a failure, not half its records.
            found = list(decode(source))
        except Exception as exc:  # the parser never raises; this guards the code around it
            processed.failures.append(Failure(source, exc))
            continue
        for index, record in enumerate(found):
            decoded.append((source, index))
            records.append(record)
    if not records:
        return processed
    try:
        results: list[RuleResult | None] = list(rules.apply_batch(records))
    except Exception:
        log.exception("the rules failed on a batch of %d records; retrying them one by one", len(records))
        results = []
        for (source, _), record in zip(decoded, records, strict=True):
            try:
                results.append(rules.apply_batch([record])[0])
            except Exception as exc:
                processed.failures.append(Failure(source, exc))
                results.append(None)
    for (source, index), result in zip(decoded, results, strict=True):
        if result is not None:
            processed.outcomes.append(Outcome(source, index, result))
    return processed
