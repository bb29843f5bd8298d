"""The small tuples that travel between the job's operators and into its sinks.

Plain tuples keep the Java<->Python hops cheap (they are pickled on every hop). The statistics
(``common.schema.stats.Stat``) travel too; they are a data contract of their own.

- ``WriteRequest``: ``(kind, doc_id, index, body_json, stat)`` — what the Elasticsearch sink does:
  ``kind`` "doc" (index it; count ``stat``), "alert" (index it; no stat) or "deadletter" (produce
  ``body_json`` to the dead-letter topic; count ``stat``). It takes them in lists, one per slice of
  a batch of source records.
- ``ThresholdCandidate``: ``(threshold key, the engine's ThresholdHit, Kafka timestamp ms, doc id)``
  — a match of a thresholded alert, keyed by the threshold operator on its first field.
"""

from __future__ import annotations

from typing import Any

from common.schema.stats import Stat

WriteRequest = tuple[str, str, str, str, Stat | None]
ThresholdCandidate = tuple[str, Any, int, str]

DOC = "doc"
ALERT = "alert"
DEADLETTER = "deadletter"
