"""The dead-letter topic's message: the original, where it came from, and why it was not indexed.

Written by the job for a record it could not process (``processing_error``) and for a document
Elasticsearch would not take (``elasticsearch_<error type>``, with the document itself). Keyed by
the record's ``event.id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from common.clock import now_iso
from common.schema.ecs import to_json

MAX_DETAIL_CHARS = 4096
MAX_DOCUMENT_CHARS = 65536
PROCESSING_ERROR = "processing_error"


def elasticsearch_reason(error_type: str) -> str:
    return f"elasticsearch_{error_type}"


def dead_letter(
    reason: str,
    detail: str,
    *,
    original: str,
    topic: str,
    partition: int,
    offset: int,
    kafka_ts_ms: int,
    document: str | None = None,
    offsets: Sequence[int] | None = None,
) -> str:
    """The JSON body of a dead-letter message.

    ``offsets``: every message of a joined multi-line event (``offset`` is the first), so each
    consumed message is accounted for.
    """
    letter: dict[str, Any] = {
        "@timestamp": now_iso(),
        "reason": reason,
        "error": {"message": detail[:MAX_DETAIL_CHARS]},
        "event": {"original": original},
        "kafka": {"topic": topic, "partition": partition, "offset": offset, "timestamp": kafka_ts_ms},
    }
    if offsets is not None and len(offsets) > 1:
        letter["kafka"]["offsets"] = list(offsets)
    if document is not None:
        letter["document"] = document[:MAX_DOCUMENT_CHARS]
    return to_json(letter)
