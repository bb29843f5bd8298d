"""The small tuples that travel between the job's operators, and how documents are named.

Plain tuples keep the Java<->Python hops cheap (they are pickled on every hop).

- ``Stat``: ``(window_ts_ms, outcome, dataset, host, level, rule_ids, count, late)`` — ``count``
  consumed events with these dimensions, for the window statistics; ``outcome`` is one of
  ``OUTCOMES``; ``late`` says the watermark had passed the event's window when the job read it.
  Lateness is decided there, once: stats are summed per batch and window (``StatBatch``) before
  they are emitted, so a sum can reach the statistics operator after the watermark that followed
  its events — it is still counted where it belongs.
- ``WriteRequest``: ``(kind, doc_id, index, body_json, stat)`` — what the bulk writer does:
  ``kind`` "doc" (index it; count ``stat``), "alert" (index it; no stat) or "deadletter" (produce
  ``body_json`` to the dead-letter topic; count ``stat``). It takes them in lists, one per slice of
  a batch of source records.
- ``ThresholdCandidate``: ``(threshold key, the engine's ThresholdHit, Kafka timestamp ms, doc id)``
  — a match of a thresholded alert, keyed by the threshold operator on its first field.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

Stat = tuple[int, str, str, str, str, tuple[str, ...], int, bool]
WriteRequest = tuple[str, str, str, str, Stat | None]
ThresholdCandidate = tuple[str, Any, int, str]

INDEXED = "indexed"
DROPPED = "dropped"
DEAD_LETTERED = "dead_lettered"
OUTCOMES = (INDEXED, DROPPED, DEAD_LETTERED)

ALERT_DATASET = "logflow.alert"

DOC = "doc"
ALERT = "alert"
DEADLETTER = "deadletter"

_INDEX_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def is_late(ts_ms: int, watermark_ms: int, window_seconds: int) -> bool:
    """Whether the watermark has already passed the end of the window ``ts_ms`` falls in."""
    window_ms = window_seconds * 1000
    return watermark_ms >= ts_ms - ts_ms % window_ms + window_ms - 1


def document_id(topic: str, partition: int, offset: int) -> str:
    """Deterministic, so a replay after a failure overwrites instead of duplicating."""
    return f"{topic}:{partition}:{offset}"


def index_name(prefix: str, dataset: str, epoch_ms: int) -> str:
    """``<prefix>-<dataset>-<yyyy.MM.dd>``, dated by the Kafka timestamp.

    The Kafka timestamp rather than ``@timestamp`` picks the day because it is fixed per record:
    a parsed timestamp can depend on the parse date (year-less syslog) or fall back to ingest
    time, and a replay must land on the very index the first attempt wrote.
    """
    return _index_name(prefix, dataset, epoch_ms // _DAY_MS)


_DAY_MS = 86_400_000


@lru_cache(maxsize=4096)
def _index_name(prefix: str, dataset: str, day_number: int) -> str:
    # Cached: it is asked once per event, with very few distinct answers.
    safe = _INDEX_UNSAFE.sub("_", dataset.lower()).lstrip("._-")[:100] or "unknown"
    day = datetime.fromtimestamp(day_number * 86_400, UTC).strftime("%Y.%m.%d")
    return f"{prefix}-{safe}-{day}"


def to_json(document: Any) -> str:
    """A document's JSON: orjson (a quarter of json.dumps' cost per document), json.dumps when it refuses.

    orjson refuses what valid UTF-8 JSON cannot hold as it is — lone surrogates (from JSON input's
    ``\\ud800`` escapes), integers beyond 64 bits, non-string keys — and json.dumps writes those
    with ASCII escapes, which Elasticsearch decodes. NaN and infinities become null in both.
    """
    try:
        return orjson.dumps(document, default=str).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        return json.dumps(_finite(document), separators=(",", ":"), ensure_ascii=True, default=str)


def _finite(value: Any) -> Any:
    # json.dumps writes NaN and Infinity, which are not JSON: Elasticsearch would reject the document.
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def stat_for(
    record: dict[str, Any], window_ts_ms: int, outcome: str, hits: list[str], late: bool = False
) -> Stat:
    event = record.get("event")
    dataset = event.get("dataset") if isinstance(event, dict) else None
    host = record.get("host")
    host_name = host.get("name") if isinstance(host, dict) else None
    log = record.get("log")
    level = log.get("level") if isinstance(log, dict) else None
    return (
        window_ts_ms,
        outcome,
        str(dataset or "unknown"),
        str(host_name or "-"),
        str(level or "-"),
        tuple(hits),
        1,
        late,
    )


class StatBatch:
    """Sums stats with the same window and dimensions; ``drain`` hands the sums out once."""

    def __init__(self, window_seconds: int) -> None:
        self._window_ms = window_seconds * 1000
        self._counts: Counter[tuple[Any, ...]] = Counter()

    def add(self, stat: Stat) -> None:
        window_ts = stat[0] - stat[0] % self._window_ms
        self._counts[(window_ts, *stat[1:6], stat[7])] += stat[6]

    def drain(self) -> list[Stat]:
        drained: list[Stat] = [(*key[:6], count, key[6]) for key, count in self._counts.items()]
        self._counts.clear()
        return drained

    def __len__(self) -> int:
        return len(self._counts)


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
) -> str:
    """The JSON body of a dead-letter message: the original, where it came from, and why."""
    letter: dict[str, Any] = {
        "@timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "reason": reason,
        "error": {"message": detail[:4096]},
        "event": {"original": original},
        "kafka": {"topic": topic, "partition": partition, "offset": offset, "timestamp": kafka_ts_ms},
    }
    if document is not None:
        letter["document"] = document[:65536]
    return to_json(letter)


# ECS ``event.severity`` is numeric; these are the scores Elastic's own detection rules use.
SEVERITY_SCORES = {"low": 21, "medium": 47, "high": 73, "critical": 99}


def alert_document(alert: dict[str, Any], alert_id: str) -> dict[str, Any]:
    """The indexed form of an alert: ECS-typed, in the alert dataset, with a deterministic id."""
    document = dict(alert)
    event = dict(document.get("event") or {})
    event["kind"] = "alert"
    severity = event.pop("severity", None)
    if isinstance(severity, str) and severity.lower() in SEVERITY_SCORES:
        event["severity"] = SEVERITY_SCORES[severity.lower()]
    elif isinstance(severity, int) and not isinstance(severity, bool):
        event["severity"] = severity
    # The alert keeps the source dataset under labels; event.dataset names the alert stream.
    source_dataset = event.get("dataset")
    if source_dataset and source_dataset != ALERT_DATASET:
        document.setdefault("labels", {})["source_dataset"] = str(source_dataset)
    event["dataset"] = ALERT_DATASET
    event["id"] = alert_id
    document["event"] = event
    return document


def alert_request(
    alert: dict[str, Any], alert_id: str, index_prefix: str, ts_ms: int
) -> tuple[str, WriteRequest]:
    """An alert's JSON (for the alerts topic) and the request that indexes it."""
    body = to_json(alert_document(alert, alert_id))
    return body, (ALERT, alert_id, index_name(index_prefix, ALERT_DATASET, ts_ms), body, None)
