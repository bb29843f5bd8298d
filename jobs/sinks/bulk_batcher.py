"""Micro-batching of single-document writes into Elasticsearch bulk requests.

The Flink async operator hands over one document per call; the batcher gathers the calls that
are in flight together into one ``_bulk`` request and resolves each caller's future with that
document's own outcome. Whole-request failures (connection errors, 429, 5xx) are retried with
backoff for as long as it takes — the futures stay pending, the operator's capacity fills up and
Flink backpressures the sources, which is how an Elasticsearch outage costs latency, not data.
Per-document rejections (mapping conflicts, oversized documents) resolve as ``Rejected`` so the
caller can dead-letter them; per-document 429s are retried like whole-request ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Indexed:
    status: int


@dataclass(frozen=True)
class Rejected:
    status: int
    error_type: str
    reason: str


Outcome = Indexed | Rejected
# Sends the NDJSON lines of one bulk request; returns the parsed response body, or raises.
BulkSender = Callable[[list[str]], Any]


class TransientBulkError(Exception):
    """The whole request failed in a way that is worth retrying (HTTP 429/5xx, connection)."""


def action_line(index: str, doc_id: str) -> str:
    # json.dumps, not an f-string, so that nothing a topic name contains can break NDJSON framing.
    return json.dumps({"index": {"_index": index, "_id": doc_id}}, separators=(",", ":"))


def classify_item(item: dict[str, Any]) -> Outcome | None:
    """The outcome of one bulk response item, or None when it should be retried."""
    result = item.get("index") or item.get("create") or item.get("update") or {}
    status = int(result.get("status", 500))
    if 200 <= status < 300:
        return Indexed(status)
    if status in RETRYABLE_STATUS:
        return None
    error = result.get("error") or {}
    if isinstance(error, dict):
        error_type = str(error.get("type", "unknown"))
        reason = str(error.get("reason", ""))
        caused = error.get("caused_by")
        if isinstance(caused, dict) and caused.get("reason"):
            reason = f"{reason}: {caused.get('reason')}"
    else:
        error_type, reason = "unknown", str(error)
    return Rejected(status, error_type, reason)


class _Group:
    """Documents submitted together: one future for all their outcomes, in submission order."""

    __slots__ = ("future", "outcomes", "remaining")

    def __init__(self, future: asyncio.Future[list[Outcome]], size: int) -> None:
        self.future = future
        self.outcomes: list[Outcome | None] = [None] * size
        self.remaining = size

    def resolve(self, position: int, outcome: Outcome) -> None:
        self.outcomes[position] = outcome
        self.remaining -= 1
        if self.remaining == 0 and not self.future.done():
            self.future.set_result(self.outcomes)  # type: ignore[arg-type]

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


@dataclass
class _Pending:
    index: str
    doc_id: str
    body: str
    group: _Group
    position: int


class BulkBatcher:
    def __init__(
        self,
        send: BulkSender,
        *,
        max_docs: int = 1000,
        max_bytes: int = 8 * 1024 * 1024,
        linger_s: float = 0.02,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 15.0,
    ) -> None:
        self._send = send
        self._max_docs = max_docs
        self._max_bytes = max_bytes
        self._linger_s = linger_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._pending: list[_Pending] = []
        self._pending_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.retries = 0

    async def submit(self, index: str, doc_id: str, body: str) -> Outcome:
        [outcome] = await self.submit_many([(index, doc_id, body)])
        return outcome

    def submit_many(self, documents: list[tuple[str, str, str]]) -> asyncio.Future[list[Outcome]]:
        """Queue (index, id, body) documents; the future resolves with their outcomes, in order.

        One future per call rather than per document: the writer hands over whole batches, and
        per-document futures were a large part of its event loop's work. Call from the loop.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Outcome]] = loop.create_future()
        if not documents:
            future.set_result([])
            return future
        group = _Group(future, len(documents))
        for position, (index, doc_id, body) in enumerate(documents):
            self._pending.append(_Pending(index, doc_id, body, group, position))
            self._pending_bytes += len(body) + len(index) + len(doc_id) + 40
            if len(self._pending) >= self._max_docs or self._pending_bytes >= self._max_bytes:
                self._flush_now()
        if self._pending and self._timer is None:
            self._timer = loop.call_later(self._linger_s, self._flush_now)
        return future

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        task = asyncio.get_running_loop().create_task(self._write(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        delay = self._backoff_initial_s
        while batch:
            lines: list[str] = []
            for item in batch:
                lines.append(action_line(item.index, item.doc_id))
                lines.append(item.body)
            try:
                response = await loop.run_in_executor(None, self._send, lines)
            except TransientBulkError as exc:
                log.warning(
                    "bulk request of %d documents failed (%s); retrying in %.1fs", len(batch), exc, delay
                )
                await self._backoff(delay)
                delay = min(delay * 2, self._backoff_max_s)
                continue
            except Exception as exc:  # anything else is a bug or a config error: fail loudly
                for item in batch:
                    item.group.fail(exc)
                return
            retry: list[_Pending] = []
            for item, result in zip(batch, response.get("items", []), strict=False):
                outcome = classify_item(result)
                if outcome is None:
                    retry.append(item)
                else:
                    item.group.resolve(item.position, outcome)
            answered = len(response.get("items", []))
            retry.extend(batch[answered:])
            batch = retry
            if batch:
                await self._backoff(delay)
                delay = min(delay * 2, self._backoff_max_s)

    async def _backoff(self, delay: float) -> None:
        self.retries += 1
        await asyncio.sleep(delay * (0.5 + random.random() / 2))
