"""The job's Elasticsearch sink: a Flink async function over the bulk batcher.

Flink's Python async operator waits for every in-flight element before a bundle — and so a
checkpoint — completes, so a document is acknowledged by Elasticsearch (or its dead letter by
Kafka) before the checkpoint that covers its offset. With deterministic ids that makes a replay an
overwrite: each event is in Elasticsearch exactly once.

Output: the statistics of the consumed events (indexed, or dead-lettered when Elasticsearch
rejected them), summed per window and dimensions. The sums are handed out by whichever element
completes last while nothing else is in flight — which always happens before a bundle, and so a
checkpoint, completes — so every event is counted exactly once per checkpointed run.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import Any, cast

from pyflink.datastream import RuntimeContext
from pyflink.datastream.functions import AsyncFunction

from jobs.config import JobConfig
from jobs.elements import ALERT, DEAD_LETTERED, DEADLETTER, Stat, StatBatch, WriteRequest, dead_letter
from jobs.sinks.bulk_batcher import BulkBatcher, Rejected, TransientBulkError
from jobs.sinks.kafka_producer import AcknowledgedProducer

log = logging.getLogger(__name__)

# Beyond this a document is dead-lettered rather than sent: Elasticsearch's http.max_content_length
# defaults to 100 MB, and a single giant document would stall a whole bulk request.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def make_bulk_sender(config: JobConfig) -> Any:
    from elastic_transport import ConnectionError as TransportConnectionError
    from elastic_transport import ConnectionTimeout
    from elasticsearch import ApiError, Elasticsearch

    client = Elasticsearch(
        **config.elasticsearch.client_kwargs(),
        request_timeout=config.es_request_timeout_s,
        max_retries=0,
        retry_on_timeout=False,
    )

    def send(lines: list[str]) -> Any:
        try:
            return client.bulk(operations=cast(Any, lines)).body
        except (TransportConnectionError, ConnectionTimeout) as exc:
            raise TransientBulkError(str(exc)) from exc
        except ApiError as exc:
            if exc.meta.status in (429, 500, 502, 503, 504):
                raise TransientBulkError(f"HTTP {exc.meta.status}") from exc
            raise

    return send


class ElasticsearchWriter(AsyncFunction):
    def __init__(self, config: JobConfig) -> None:
        self._config = config
        self._batcher: BulkBatcher | None = None
        self._producer: AcknowledgedProducer | None = None
        self._stats = StatBatch(config.window_seconds)
        self._in_flight = 0

    def open(self, runtime_context: RuntimeContext) -> None:
        self._batcher = None
        self._producer = AcknowledgedProducer(self._config.kafka)
        self._stats = StatBatch(self._config.window_seconds)
        self._in_flight = 0

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()

    def _batcher_in_loop(self) -> BulkBatcher:
        # Created on first use, inside the operator's event-loop thread that owns its futures.
        if self._batcher is None:
            self._batcher = BulkBatcher(
                make_bulk_sender(self._config),
                max_docs=self._config.es_bulk_docs,
                linger_s=self._config.es_bulk_linger_ms / 1000,
            )
        return self._batcher

    async def async_invoke(self, value: list[WriteRequest]) -> list[Stat]:
        # All invocations run on the operator's one event-loop thread, so this needs no lock.
        self._in_flight += 1
        try:
            stats = await self._write_all(value)
        finally:
            self._in_flight -= 1
        for stat in stats:
            self._stats.add(stat)
        return self._stats.drain() if self._in_flight == 0 else []

    async def _write_all(self, requests: list[WriteRequest]) -> list[Stat]:
        """Write one batch of requests; the statistics they contribute (alerts contribute none)."""
        assert self._producer is not None
        stats: list[Stat] = []
        letters: list[Awaitable[None]] = []
        indexing: list[WriteRequest] = []
        for request in requests:
            kind, doc_id, index, body, stat = request
            if kind == DEADLETTER:
                letters.append(self._producer.send(self._config.topics.deadletter, doc_id, body))
                if stat is not None:
                    stats.append(stat)
            elif len(body) > MAX_DOCUMENT_BYTES:
                too_large = Rejected(413, "document_too_large", f"{len(body)} bytes > {MAX_DOCUMENT_BYTES}")
                letters.append(self._dead_letter(doc_id, index, body, too_large, stat))
                if kind != ALERT and stat is not None:
                    stats.append((stat[0], DEAD_LETTERED, *stat[2:]))
            else:
                indexing.append(request)
        if indexing:
            outcomes = await self._batcher_in_loop().submit_many([(r[2], r[1], r[3]) for r in indexing])
            for (kind, doc_id, index, body, stat), outcome in zip(indexing, outcomes, strict=True):
                if isinstance(outcome, Rejected):
                    letters.append(self._dead_letter(doc_id, index, body, outcome, stat))
                    if kind != ALERT and stat is not None:
                        stats.append((stat[0], DEAD_LETTERED, *stat[2:]))
                elif kind != ALERT and stat is not None:
                    stats.append(stat)
        if letters:
            # Acknowledged by Kafka before the batch completes, and so before its checkpoint.
            await asyncio.gather(*letters)
        return stats

    async def _dead_letter(
        self, doc_id: str, index: str, body: str, rejected: Rejected, stat: Stat | None
    ) -> None:
        assert self._producer is not None
        try:
            document = json.loads(body)
            original = str(document.get("event", {}).get("original", ""))
            kafka = document.get("logflow", {}).get("kafka", {})
        except (ValueError, AttributeError):
            original, kafka = "", {}
        letter = dead_letter(
            f"elasticsearch_{rejected.error_type}",
            f"index {index}: HTTP {rejected.status}: {rejected.reason}",
            original=original,
            topic=str(kafka.get("topic", "")),
            partition=int(kafka.get("partition", -1)),
            offset=int(kafka.get("offset", -1)),
            kafka_ts_ms=stat[0] if stat is not None else 0,
            document=body,
        )
        await self._producer.send(self._config.topics.deadletter, doc_id, letter)
