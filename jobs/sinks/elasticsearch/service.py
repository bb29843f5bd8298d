"""The Elasticsearch sink's service: one bulk request over the Python client, its failures classified.

A ``BulkSender`` takes the NDJSON lines of one bulk request and returns the parsed response body,
or raises ``TransientBulkError`` for a failure worth retrying (connection, 429, 5xx).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from jobs.sinks.elasticsearch.config import ElasticsearchSinkConfig
from jobs.sinks.elasticsearch.retry import RETRYABLE_STATUS, TransientBulkError

BulkSender = Callable[[list[str]], Any]

BULK_RESPONSE_FIELDS = ["errors", "items.*.status", "items.*.error"]


def make_bulk_sender(config: ElasticsearchSinkConfig) -> BulkSender:
    from elastic_transport import ConnectionError as TransportConnectionError
    from elastic_transport import ConnectionTimeout
    from elasticsearch import ApiError, Elasticsearch
    from elasticsearch.serializer import OrjsonSerializer

    client = Elasticsearch(
        **config.connection.client_kwargs(),
        # A bulk response has an item per document: parsing it is a real share of the job's cost.
        serializer=OrjsonSerializer(),
        request_timeout=config.request_timeout_s,
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
            if exc.meta.status in RETRYABLE_STATUS:
                raise TransientBulkError(f"HTTP {exc.meta.status}") from exc
            raise

    return send
