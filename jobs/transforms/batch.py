"""Parse a batch of Kafka records and apply the active rules to it: the job's per-event work.

Free of Flink so that it can be tested on its own; ``NormalizeAndApplyRules`` calls it once per
batch the source hands over. Working on a batch is what makes the job fast: PyFlink's per-element
cost (serialisation across the Java/Python boundary) is paid once per batch, the rules engine
evaluates the whole batch in one round trip, and its documents go out in one bulk request.

Every record yields exactly one outcome — a document to index, a dropped statistic, or a dead
letter with the reason — so nothing consumed is lost silently, even when parsing or the rules
fail on one record of the batch.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobs.elements import (
    DEAD_LETTERED,
    DEADLETTER,
    DOC,
    DROPPED,
    INDEXED,
    Stat,
    StatBatch,
    ThresholdCandidate,
    WriteRequest,
    alert_request,
    dead_letter,
    document_id,
    index_name,
    is_late,
    stat_for,
    to_json,
)

log = logging.getLogger(__name__)

# (payload, topic, partition, offset, Kafka timestamp in ms)
KafkaRecord = tuple[bytes | None, str, int, int, int]


@dataclass
class BatchOutput:
    writes: list[WriteRequest] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    threshold_candidates: list[ThresholdCandidate] = field(default_factory=list)
    dropped_stats: list[Stat] = field(default_factory=list)


@dataclass(frozen=True)
class BatchContext:
    parse: Callable[[bytes], dict[str, Any]]
    engine: Any  # common.rules.RuleEngine; Any so this module does not import the rules core
    index_prefix: str
    window_seconds: int


def process_batch(records: Sequence[KafkaRecord], watermark_ms: int, ctx: BatchContext) -> BatchOutput:
    out = BatchOutput()
    dropped = StatBatch(ctx.window_seconds)
    parsed: list[tuple[KafkaRecord, dict[str, Any]]] = []
    for record in records:
        try:
            parsed.append((record, _parse(record, ctx)))
        except Exception as exc:  # parse_message never raises; this guards the code around it
            out.writes.append(_processing_error(record, exc, watermark_ms, ctx))
    results = _apply_rules(parsed, watermark_ms, ctx, out)
    for (record, _), result in zip(parsed, results, strict=True):
        if result is None:
            continue  # dead-lettered by _apply_rules
        _, topic, partition, offset, ts_ms = record
        late = is_late(ts_ms, watermark_ms, ctx.window_seconds)
        doc_id = document_id(topic, partition, offset)
        document = result.record
        if result.dropped:
            dropped.add(stat_for(document, ts_ms, DROPPED, result.hits, late))
        else:
            try:
                body = to_json(document)
            except Exception as exc:  # e.g. a rule set a value JSON cannot hold
                out.writes.append(_processing_error(record, exc, watermark_ms, ctx))
                continue
            event = document.get("event")
            dataset = str((event.get("dataset") if isinstance(event, dict) else None) or "unknown")
            out.writes.append(
                (
                    DOC,
                    doc_id,
                    index_name(ctx.index_prefix, dataset, ts_ms),
                    body,
                    stat_for(document, ts_ms, INDEXED, result.hits, late),
                )
            )
        for hit in result.threshold_hits:
            out.threshold_candidates.append((hit.key, hit, ts_ms, doc_id))
        for seq, alert in enumerate(result.alerts):
            alert_body, request = alert_request(alert, f"{doc_id}:alert:{seq}", ctx.index_prefix, ts_ms)
            out.alerts.append(alert_body)
            out.writes.append(request)
    out.dropped_stats = dropped.drain()
    return out


def _parse(record: KafkaRecord, ctx: BatchContext) -> dict[str, Any]:
    _, topic, partition, offset, _ = record
    document = ctx.parse(_payload(record))
    event = document.setdefault("event", {})
    event["id"] = document_id(topic, partition, offset)
    document["logflow"] = {"kafka": {"topic": topic, "partition": partition, "offset": offset}}
    return document


def _payload(record: KafkaRecord) -> bytes:
    # A tombstone on a logs topic has no value; it is still one consumed event.
    return bytes(record[0]) if record[0] is not None else b""


def _apply_rules(
    parsed: list[tuple[KafkaRecord, dict[str, Any]]], watermark_ms: int, ctx: BatchContext, out: BatchOutput
) -> list[Any]:
    """One result per parsed record; None where the record was dead-lettered instead."""
    if not parsed:
        return []
    try:
        return list(ctx.engine.apply_batch([document for _, document in parsed]))
    except Exception:
        log.exception("the rules failed on a batch of %d records; retrying them one by one", len(parsed))
    # One at a time, so that a record the engine cannot handle costs that record only.
    results: list[Any] = []
    for record, document in parsed:
        try:
            results.append(ctx.engine.apply_batch([document])[0])
        except Exception as exc:
            out.writes.append(_processing_error(record, exc, watermark_ms, ctx))
            results.append(None)
    return results


def _processing_error(
    record: KafkaRecord, exc: BaseException, watermark_ms: int, ctx: BatchContext
) -> WriteRequest:
    _, topic, partition, offset, ts_ms = record
    log.error("record %s:%s:%s could not be processed: %r", topic, partition, offset, exc)
    original = _payload(record).decode("utf-8", errors="backslashreplace")
    letter = dead_letter(
        "processing_error",
        "".join(traceback.format_exception_only(type(exc), exc)).strip(),
        original=original,
        topic=topic,
        partition=partition,
        offset=offset,
        kafka_ts_ms=ts_ms,
    )
    late = is_late(ts_ms, watermark_ms, ctx.window_seconds)
    stat: Stat = (ts_ms, DEAD_LETTERED, "unknown", "-", "-", (), 1, late)
    return DEADLETTER, document_id(topic, partition, offset), "", letter, stat
