"""The job's Elasticsearch sink: the Python client's bulk API behind a ``BulkWriter``.

Operators open one ``ElasticsearchSink`` per parallel instance and write each batch they produce
with it before they hand anything on (see ``jobs.sinks.bulk_writer`` for why that makes the
writes exactly once).
"""

from __future__ import annotations

from typing import Any, cast

from jobs.config import JobConfig
from jobs.sinks.bulk_writer import BulkWriter, TransientBulkError
from jobs.sinks.kafka_producer import AcknowledgedProducer

BULK_RESPONSE_FIELDS = ["errors", "items.*.status", "items.*.error"]


def make_bulk_sender(config: JobConfig) -> Any:
    from elastic_transport import ConnectionError as TransportConnectionError
    from elastic_transport import ConnectionTimeout
    from elasticsearch import ApiError, Elasticsearch
    from elasticsearch.serializer import OrjsonSerializer

    client = Elasticsearch(
        **config.elasticsearch.client_kwargs(),
        # A bulk response has an item per document: parsing it is a real share of the job's cost.
        serializer=OrjsonSerializer(),
        request_timeout=config.es_request_timeout_s,
        max_retries=0,
        retry_on_timeout=False,
    )

    def send(lines: list[str]) -> Any:
        try:
            # One string: the client would otherwise encode and copy it line by line.
            return client.bulk(
                operations=cast(Any, "\n".join(lines) + "\n"),
                # Only what classify_item reads: a full item (index, id, version, shards, seq_no...)
                # is several times longer, and both sides pay for every byte of a bulk response.
                filter_path=BULK_RESPONSE_FIELDS,
            ).body
        except (TransportConnectionError, ConnectionTimeout) as exc:
            raise TransientBulkError(str(exc)) from exc
        except ApiError as exc:
            if exc.meta.status in (429, 500, 502, 503, 504):
                raise TransientBulkError(f"HTTP {exc.meta.status}") from exc
            raise

    return send


class ElasticsearchSink:
    """A bulk writer and its dead-letter producer, opened where the operator opens."""

    def __init__(self, config: JobConfig) -> None:
        self._config = config
        self._producer: AcknowledgedProducer | None = None
        self._writer: BulkWriter | None = None

    def open(self) -> None:
        self._producer = AcknowledgedProducer(self._config.kafka)
        self._writer = BulkWriter(
            make_bulk_sender(self._config),
            self._producer,
            self._config.topics.deadletter,
            max_docs=self._config.es_bulk_docs,
        )

    @property
    def writer(self) -> BulkWriter:
        if self._writer is None:
            raise RuntimeError("the Elasticsearch sink is not open")
        return self._writer

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
        self._writer = None
