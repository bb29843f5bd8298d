"""The Elasticsearch sink: bulk writes of a batch of write requests; rejects go to the dead letters.

``BulkWriter.write`` returns only when every document of the batch is in Elasticsearch or, when
Elasticsearch rejected it, in the dead-letter topic (acknowledged by the broker, through the
dead-letter sink, ``jobs.sinks.dead_letter``). The job calls it from the operator that processes the
batch, so a batch's writes complete before the element does, and therefore before any checkpoint
after it: with deterministic ids a replay overwrites, and every event is in Elasticsearch exactly
once.

Whole-request failures (connection errors, 429, 5xx) and per-document 429s are retried with
backoff for as long as it takes; meanwhile the operator does not return, and Flink backpressures
the sources, which is how an Elasticsearch outage costs latency, not data. Per-document rejections
(mapping conflicts, oversized documents) go to the dead letters with the reason.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Protocol

from common.schema.dead_letter import dead_letter, elasticsearch_reason
from common.schema.stats import DEAD_LETTERED, Stat
from jobs.elements import ALERT, DEADLETTER, WriteRequest
from jobs.metrics import ElasticsearchObserver
from jobs.sinks.elasticsearch.config import ElasticsearchSinkConfig
from jobs.sinks.elasticsearch.request_builder import action_line
from jobs.sinks.elasticsearch.retry import (
    Outcome,
    Rejected,
    TransientBulkError,
    classify_item,
)
from jobs.sinks.elasticsearch.service import BulkSender, make_bulk_sender

log = logging.getLogger(__name__)

# Beyond this a document is dead-lettered rather than sent: Elasticsearch's http.max_content_length
# defaults to 100 MB, and a single giant document would stall a whole bulk request.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


class DeadLetterWriter(Protocol):
    def send_all(self, topic: str, messages: list[tuple[str, str]]) -> None:
        """Produce (key, value) messages and return once the broker acknowledged all of them."""


class BulkWriter:
    def __init__(
        self,
        send: BulkSender,
        dead_letters: DeadLetterWriter,
        deadletter_topic: str,
        *,
        max_docs: int = 1000,
        max_bytes: int = 8 * 1024 * 1024,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 15.0,
        sleep: Callable[[float], None] = time.sleep,
        observer: ElasticsearchObserver | None = None,
    ) -> None:
        self._send = send
        self._dead_letters = dead_letters
        self._topic = deadletter_topic
        self._max_docs = max_docs
        self._max_bytes = max_bytes
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._observer = observer or ElasticsearchObserver()
        self.retries = 0

    def write(self, requests: list[WriteRequest]) -> list[Stat]:
        """Write one batch; the statistics of its events (alerts contribute none)."""
        stats: list[Stat] = []
        letters: list[tuple[str, str]] = []
        to_index: list[WriteRequest] = []
        deadletter_requests = 0  # dead letters made upstream: not Elasticsearch's rejections
        for request in requests:
            kind, doc_id, index, body, stat = request
            if kind == DEADLETTER:
                deadletter_requests += 1
                letters.append((doc_id, body))
                if stat is not None:
                    stats.append(stat)
            elif len(body) > MAX_DOCUMENT_BYTES:
                too_large = Rejected(413, "document_too_large", f"{len(body)} bytes > {MAX_DOCUMENT_BYTES}")
                letters.append((doc_id, _letter(doc_id, index, body, too_large, stat)))
                if kind != ALERT and stat is not None:
                    stats.append(stat._replace(outcome=DEAD_LETTERED))
            else:
                to_index.append(request)
        outcomes = self.index([(r[2], r[1], r[3]) for r in to_index])
        for (kind, doc_id, index, body, stat), outcome in zip(to_index, outcomes, strict=True):
            if isinstance(outcome, Rejected):
                letters.append((doc_id, _letter(doc_id, index, body, outcome, stat)))
                if kind != ALERT and stat is not None:
                    stats.append(stat._replace(outcome=DEAD_LETTERED))
            elif kind != ALERT and stat is not None:
                stats.append(stat)
        if letters:
            self._dead_letters.send_all(self._topic, letters)
            self._observer.documents_rejected(len(letters) - deadletter_requests)
        return stats

    def index(self, documents: list[tuple[str, str, str]]) -> list[Outcome]:
        """Index (index, id, body) documents; their outcomes, in order. Retries until each has one."""
        outcomes: list[Outcome | None] = [None] * len(documents)
        for chunk in self._chunks(documents):
            pending = chunk
            delay = self._backoff_initial_s
            while pending:
                lines: list[str] = []
                for position in pending:
                    index, doc_id, body = documents[position]
                    lines.append(action_line(index, doc_id))
                    lines.append(body)
                started = time.perf_counter()
                try:
                    response = self._send(lines)
                except TransientBulkError as exc:
                    self._observer.bulk_request((time.perf_counter() - started) * 1000)
                    log.warning(
                        "bulk request of %d documents failed (%s); retrying in %.1fs",
                        len(pending),
                        exc,
                        delay,
                    )
                    delay = self._backoff(delay)
                    continue
                self._observer.bulk_request((time.perf_counter() - started) * 1000)
                items = response.get("items", [])
                retry: list[int] = []
                for position, item in zip(pending, items, strict=False):
                    outcome = classify_item(item)
                    if outcome is None:
                        retry.append(position)
                    else:
                        outcomes[position] = outcome
                retry.extend(pending[len(items) :])
                pending = retry
                if pending:
                    delay = self._backoff(delay)
        return [o if o is not None else Rejected(500, "unknown", "no outcome") for o in outcomes]

    def _chunks(self, documents: list[tuple[str, str, str]]) -> list[list[int]]:
        chunks: list[list[int]] = []
        current: list[int] = []
        size = 0
        for position, (index, doc_id, body) in enumerate(documents):
            cost = len(body) + len(index) + len(doc_id) + 40
            if current and (len(current) >= self._max_docs or size + cost > self._max_bytes):
                chunks.append(current)
                current, size = [], 0
            current.append(position)
            size += cost
        if current:
            chunks.append(current)
        return chunks

    def _backoff(self, delay: float) -> float:
        self.retries += 1
        self._observer.bulk_retry()
        self._sleep(delay * (0.5 + random.random() / 2))
        return min(delay * 2, self._backoff_max_s)


def _letter(doc_id: str, index: str, body: str, rejected: Rejected, stat: Stat | None) -> str:
    """The dead letter for a document Elasticsearch would not take, with the document itself."""
    try:
        document = json.loads(body)
        original = str(document.get("event", {}).get("original", ""))
        kafka = document.get("logflow", {}).get("kafka", {})
    except (ValueError, AttributeError):
        original, kafka = "", {}
    return dead_letter(
        elasticsearch_reason(rejected.error_type),
        f"index {index}: HTTP {rejected.status}: {rejected.reason}",
        original=original,
        topic=str(kafka.get("topic", "")),
        partition=int(kafka.get("partition", -1)),
        offset=int(kafka.get("offset", -1)),
        kafka_ts_ms=stat.ts_ms if stat is not None else 0,
        document=body,
        offsets=_offsets(kafka.get("offsets")),
    )


def _offsets(value: object) -> list[int] | None:
    # A joined multi-line event's document lists its messages' offsets (logflow.kafka.offsets).
    if isinstance(value, list) and all(isinstance(item, int) for item in value):
        return value
    return None


class ElasticsearchSink:
    """A bulk writer over the Python client, opened where the operator that writes opens."""

    def __init__(self, config: ElasticsearchSinkConfig, dead_letters: DeadLetterWriter) -> None:
        self._config = config
        self._dead_letters = dead_letters
        self._writer: BulkWriter | None = None

    def open(self, observer: ElasticsearchObserver | None = None) -> None:
        self._writer = BulkWriter(
            make_bulk_sender(self._config),
            self._dead_letters,
            self._config.deadletter_topic,
            max_docs=self._config.bulk_docs,
            observer=observer,
        )

    def write(self, requests: list[WriteRequest]) -> list[Stat]:
        """Write one batch (see ``BulkWriter.write``)."""
        if self._writer is None:
            raise RuntimeError("the Elasticsearch sink is not open")
        return self._writer.write(requests)

    def close(self) -> None:
        self._writer = None
