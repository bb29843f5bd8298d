"""The batcher's contract, driven by an in-process bulk sender (its HTTP twin is in the e2e tests)."""

import asyncio
import json
from typing import Any

import pytest

from jobs.sinks.bulk_batcher import BulkBatcher, Indexed, Rejected, TransientBulkError, classify_item


class ScriptedSender:
    """Answers each bulk call from a script: an exception to raise, or a status per document."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls: list[list[str]] = []

    def __call__(self, lines: list[str]) -> Any:
        self.calls.append(lines)
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        docs = len(lines) // 2
        statuses = [200] * docs if step == "ok" else step
        items = []
        for status in statuses:
            result: dict[str, Any] = {"status": status}
            if status >= 400:
                result["error"] = {
                    "type": "mapper_parsing_exception",
                    "reason": "failed to parse field [source.ip]",
                }
            items.append({"index": result})
        return {"errors": any(s >= 300 for s in statuses), "items": items}


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_concurrent_submissions_share_one_bulk_request() -> None:
    sender = ScriptedSender(["ok"])

    async def main() -> list[Any]:
        batcher = BulkBatcher(sender, max_docs=10, linger_s=0.01)
        return await asyncio.gather(*(batcher.submit("i", f"id{n}", json.dumps({"n": n})) for n in range(5)))

    outcomes = run(main())
    assert outcomes == [Indexed(200)] * 5
    assert len(sender.calls) == 1
    assert json.loads(sender.calls[0][0]) == {"index": {"_index": "i", "_id": "id0"}}
    assert json.loads(sender.calls[0][1]) == {"n": 0}


def test_full_batch_flushes_without_waiting_for_linger() -> None:
    sender = ScriptedSender([])

    async def main() -> None:
        batcher = BulkBatcher(sender, max_docs=2, linger_s=60)
        await asyncio.wait_for(
            asyncio.gather(batcher.submit("i", "a", "{}"), batcher.submit("i", "b", "{}")), 5
        )

    run(main())
    assert len(sender.calls) == 1


def test_transient_failures_are_retried_until_success() -> None:
    sender = ScriptedSender([TransientBulkError("HTTP 503"), TransientBulkError("connection refused"), "ok"])

    async def main() -> Any:
        batcher = BulkBatcher(sender, linger_s=0, backoff_initial_s=0.001)
        return await batcher.submit("i", "a", "{}"), batcher.retries

    outcome, retries = run(main())
    assert outcome == Indexed(200)
    assert retries == 2
    assert len(sender.calls) == 3


def test_per_document_rejections_resolve_and_429s_are_resent_alone() -> None:
    sender = ScriptedSender([[200, 400, 429], "ok"])

    async def main() -> list[Any]:
        batcher = BulkBatcher(sender, max_docs=3, backoff_initial_s=0.001)
        return await asyncio.gather(*(batcher.submit("i", d, "{}") for d in ("a", "b", "c")))

    ok, rejected, retried = run(main())
    assert ok == Indexed(200)
    assert isinstance(rejected, Rejected) and rejected.status == 400
    assert rejected.error_type == "mapper_parsing_exception"
    assert retried == Indexed(200)
    assert len(sender.calls) == 2 and len(sender.calls[1]) == 2  # only "c" went again


def test_unexpected_errors_fail_the_futures() -> None:
    sender = ScriptedSender([ValueError("bad credentials")])

    async def main() -> None:
        await BulkBatcher(sender, linger_s=0).submit("i", "a", "{}")

    with pytest.raises(ValueError, match="bad credentials"):
        run(main())


def test_classify_item_keeps_caused_by() -> None:
    outcome = classify_item(
        {
            "index": {
                "status": 400,
                "error": {
                    "type": "document_parsing_exception",
                    "reason": "x",
                    "caused_by": {"reason": "not an IP"},
                },
            }
        }
    )
    assert outcome == Rejected(400, "document_parsing_exception", "x: not an IP")
    assert classify_item({"index": {"status": 503}}) is None
    assert classify_item({"create": {"status": 201}}) == Indexed(201)


def test_a_group_spans_bulk_requests_and_resolves_once_in_order_with_retries_and_rejects() -> None:
    # max_docs 2 splits the group of 5 over three requests; the second answers 429 for its first
    # document (retried in a later request) and 400 for its second (rejected for good).
    sender = ScriptedSender(["ok", [429, 400], "ok", "ok"])

    async def main() -> tuple[list[Any], list[Any]]:
        batcher = BulkBatcher(sender, max_docs=2, linger_s=0.01, backoff_initial_s=0.001)
        group = batcher.submit_many([("i", f"d{n}", "{}") for n in range(5)])
        empty = await batcher.submit_many([])
        return await group, empty

    outcomes, empty = run(main())
    assert empty == []
    assert outcomes[0] == outcomes[1] == outcomes[4] == Indexed(200)
    assert outcomes[2] == Indexed(200)  # the 429, retried
    assert isinstance(outcomes[3], Rejected) and outcomes[3].status == 400
    sent = [json.loads(line)["index"]["_id"] for call in sender.calls for line in call[::2]]
    assert sorted(sent) == ["d0", "d1", "d2", "d2", "d3", "d4"]
