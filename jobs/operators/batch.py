"""A batch of Kafka records through the core (parse, then rules), and what each record becomes.

Free of Flink so that it can be tested on its own; ``NormalizeAndApplyRules`` calls it once per
batch the source hands over. Working on a batch is what makes the job fast: PyFlink's per-element
cost (serialisation across the Java/Python boundary) is paid once per batch, the rules engine
evaluates the whole batch in one round trip, and its documents go out in one bulk request.

The per-event work itself is ``common.processing.parse_and_apply``, the same function the dry run
(``logflow rules test``) calls. This module adds what only the job has: the Kafka position of each
record (its ``event.id``), the index it goes to, its statistic, and a dead letter for every
failure — so every record yields exactly one outcome (a document to index, a dropped statistic, or
a dead letter with the reason) and nothing consumed is lost silently.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from common.errors.groups import sighting_of
from common.multiline import JoinedEvent
from common.parsing.api import TAG_PARSE_ERROR, TAG_PARSE_FAILURE
from common.processing import RuleApplier, parse_and_apply
from common.schema.alert import alert_id
from common.schema.dead_letter import PROCESSING_ERROR, dead_letter
from common.schema.ecs import EcsRecord, document_id, set_source, to_json
from common.schema.error_groups import ErrorSighting
from common.schema.stats import DEAD_LETTERED, DROPPED, INDEXED, Stat, StatBatch, is_late, stat_for
from jobs.elements import DEADLETTER, DOC, ThresholdCandidate, WriteRequest
from jobs.sinks.elasticsearch.request_builder import alert_request, index_name

log = logging.getLogger(__name__)

# (payload, topic, partition, offset, Kafka timestamp in ms)
KafkaRecord = tuple[bytes | None, str, int, int, int]


@dataclass
class BatchOutput:
    writes: list[WriteRequest] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    threshold_candidates: list[ThresholdCandidate] = field(default_factory=list)
    dropped_stats: list[Stat] = field(default_factory=list)
    error_sightings: list[ErrorSighting] = field(default_factory=list)  # indexed error records
    # For the job's metrics (jobs/metrics.py): records the parser could not place, or choked on,
    # and records dead-lettered as processing errors.
    unknown_format: int = 0
    parse_errors: int = 0
    processing_errors: int = 0


@dataclass(frozen=True)
class BatchContext:
    # One message gives one record, or several (an OTLP logs request: one per log record).
    parse: Callable[[bytes], list[EcsRecord]]
    engine: RuleApplier
    index_prefix: str
    window_seconds: int


def process_batch(
    records: Sequence[KafkaRecord],
    watermark_ms: int,
    ctx: BatchContext,
    joined: Mapping[tuple[str, int, int], JoinedEvent] | None = None,
) -> BatchOutput:
    """``joined``: the records that are joined multi-line events (``jobs.operators.multiline``), by
    (topic, partition, first offset); they get the multiline labels and dead letters list their offsets."""
    out = BatchOutput()
    dropped = StatBatch(ctx.window_seconds)

    fanned_out: set[tuple[str, int, int]] = set()  # the messages of this batch that gave several records

    def decode(record: KafkaRecord) -> list[EcsRecord]:
        _, topic, partition, offset, _ = record
        documents = ctx.parse(_payload(record))
        if len(documents) > 1:
            fanned_out.add((topic, partition, offset))
        for index, document in enumerate(documents):
            set_source(document, topic, partition, offset, index if len(documents) > 1 else None)
        if joined:
            event = joined.get((topic, partition, offset))
            if event is not None:
                for document in documents:
                    mark_joined(document, event)
        return documents

    processed = parse_and_apply(records, decode, ctx.engine)
    for failure in processed.failures:
        _, topic, partition, offset, _ = failure.source
        event = joined.get((topic, partition, offset)) if joined else None
        out.writes.append(
            _processing_error(
                failure.source, failure.error, watermark_ms, ctx, event.offsets if event else None
            )
        )
    out.processing_errors = len(processed.failures)
    for outcome in processed.outcomes:
        record, result = outcome.source, outcome.result
        _, topic, partition, offset, ts_ms = record
        late = is_late(ts_ms, watermark_ms, ctx.window_seconds)
        doc_id = document_id(
            topic, partition, offset, outcome.index if (topic, partition, offset) in fanned_out else None
        )
        document = result.record
        tags = document.get("tags")
        if tags:
            out.unknown_format += TAG_PARSE_FAILURE in tags
            out.parse_errors += TAG_PARSE_ERROR in tags
        if result.dropped:
            dropped.add(stat_for(document, ts_ms, DROPPED, result.hits, late))
        else:
            try:
                body = to_json(document)
            except Exception as exc:  # e.g. a rule set a value JSON cannot hold
                event = joined.get((topic, partition, offset)) if joined else None
                out.writes.append(
                    _processing_error(record, exc, watermark_ms, ctx, event.offsets if event else None)
                )
                out.processing_errors += 1
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
            sighting = sighting_of(document, doc_id, ts_ms, late)
            if sighting is not None:
                out.error_sightings.append(sighting)
        for hit in result.threshold_hits:
            out.threshold_candidates.append((hit.key, hit, ts_ms, doc_id))
        for seq, alert in enumerate(result.alerts):
            alert_body, request = alert_request(alert, alert_id(doc_id, seq), ctx.index_prefix, ts_ms)
            out.alerts.append(alert_body)
            out.writes.append(request)
    out.dropped_stats = dropped.drain()
    return out


def mark_joined(document: EcsRecord, event: JoinedEvent) -> None:
    """What a record of a joined event says about it (docs/multiline.md): its lines' offsets and labels.

    An event of one untouched line gets nothing: its record is what it was before joining existed.
    """
    labels: Any = None
    if event.line_count > 1 or event.truncated or event.continued:
        labels = document.get("labels")
        if not isinstance(labels, dict):
            labels = document["labels"] = {}
    if event.line_count > 1:
        labels["multiline_lines"] = str(event.line_count)
        kafka = document.get("logflow", {}).get("kafka")
        if isinstance(kafka, dict):
            kafka["offsets"] = list(event.offsets)
    if event.truncated:
        labels["multiline_truncated"] = "true"
    if event.continued:
        labels["multiline_continued"] = "true"


def _payload(record: KafkaRecord) -> bytes:
    # A tombstone on a logs topic has no value; it is still one consumed event.
    return bytes(record[0]) if record[0] is not None else b""


def _processing_error(
    record: KafkaRecord,
    exc: BaseException,
    watermark_ms: int,
    ctx: BatchContext,
    offsets: Sequence[int] | None = None,
) -> WriteRequest:
    _, topic, partition, offset, ts_ms = record
    log.error("record %s:%s:%s could not be processed: %r", topic, partition, offset, exc)
    original = _payload(record).decode("utf-8", errors="backslashreplace")
    letter = dead_letter(
        PROCESSING_ERROR,
        "".join(traceback.format_exception_only(type(exc), exc)).strip(),
        original=original,
        topic=topic,
        partition=partition,
        offset=offset,
        kafka_ts_ms=ts_ms,
        offsets=offsets,
    )
    late = is_late(ts_ms, watermark_ms, ctx.window_seconds)
    stat = Stat(ts_ms, DEAD_LETTERED, "unknown", "-", "-", (), 1, late)
    return DEADLETTER, document_id(topic, partition, offset), "", letter, stat
