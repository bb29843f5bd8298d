"""What the Elasticsearch sink sends: index names, bulk action lines, and alerts as write requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from common.schema.alert import ALERT_DATASET, alert_document
from common.schema.ecs import to_json
from jobs.elements import ALERT, WriteRequest

_INDEX_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_DAY_MS = 86_400_000


def index_name(prefix: str, dataset: str, epoch_ms: int) -> str:
    """``<prefix>-<dataset>-<yyyy.MM.dd>``, dated by the Kafka timestamp.

    The Kafka timestamp rather than ``@timestamp`` picks the day because it is fixed per record:
    a parsed timestamp can depend on the parse date (year-less syslog) or fall back to ingest
    time, and a replay must land on the very index the first attempt wrote.
    """
    return _index_name(prefix, dataset, epoch_ms // _DAY_MS)


@lru_cache(maxsize=4096)
def _index_name(prefix: str, dataset: str, day_number: int) -> str:
    # Cached: it is asked once per event, with very few distinct answers.
    safe = _INDEX_UNSAFE.sub("_", dataset.lower()).lstrip("._-")[:100] or "unknown"
    day = datetime.fromtimestamp(day_number * 86_400, UTC).strftime("%Y.%m.%d")
    return f"{prefix}-{safe}-{day}"


def action_line(index: str, doc_id: str) -> str:
    # A JSON encoder, not an f-string, so that nothing a topic name contains can break NDJSON framing.
    return to_json({"index": {"_index": index, "_id": doc_id}})


def alert_request(
    alert: dict[str, Any], alert_id: str, index_prefix: str, ts_ms: int
) -> tuple[str, WriteRequest]:
    """An alert's JSON (for the alerts topic) and the request that indexes it."""
    body = to_json(alert_document(alert, alert_id))
    return body, (ALERT, alert_id, index_name(index_prefix, ALERT_DATASET, ts_ms), body, None)
