"""The bulk writer's contract, driven by an in-process bulk sender (its HTTP twin is in the e2e tests)."""

import json
from typing import Any

import pytest

from common.schema.stats import DEAD_LETTERED, INDEXED, Stat
from jobs.elements import ALERT, DEADLETTER, DOC
from jobs.sinks.elasticsearch.retry import Indexed, Rejected, TransientBulkError, classify_item
from jobs.sinks.elasticsearch.sink import MAX_DOCUMENT_BYTES, BulkWriter


class ScriptedSender:
    """Answers each bulk call from a script: an exception to raise, or a status per document."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls: list[list[str]] = []

    def __call__(self, lines: list[str]) -> Any:
        self.calls.append(lines)
        step: Any = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        docs = len(lines) // 2
        statuses: list[int] = [200] * docs if step == "ok" else step
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

    def ids(self, call: int) -> list[str]:
        return [json.loads(line)["index"]["_id"] for line in self.calls[call][::2]]


class RecordingDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[tuple[str, str]]]] = []

    def send_all(self, topic: str, messages: list[tuple[str, str]]) -> None:
        self.sent.append((topic, list(messages)))


def writer(sender: ScriptedSender, letters: RecordingDeadLetters | None = None, **kwargs: Any) -> BulkWriter:
    sleeps: list[float] = []
    return BulkWriter(
        sender,
        letters or RecordingDeadLetters(),
        "dlq",
        backoff_initial_s=0.001,
        sleep=sleeps.append,
        **kwargs,
    )


def test_one_batch_is_one_bulk_request_with_action_lines() -> None:
    sender = ScriptedSender(["ok"])
    outcomes = writer(sender).index([("i", f"id{n}", json.dumps({"n": n})) for n in range(5)])
    assert outcomes == [Indexed(200)] * 5
    assert len(sender.calls) == 1
    assert json.loads(sender.calls[0][0]) == {"index": {"_index": "i", "_id": "id0"}}
    assert json.loads(sender.calls[0][1]) == {"n": 0}


def test_large_batches_are_split_by_count_and_by_bytes() -> None:
    sender = ScriptedSender([])
    writer(sender, max_docs=2).index([("i", d, "{}") for d in "abcde"])
    assert [sender.ids(n) for n in range(3)] == [["a", "b"], ["c", "d"], ["e"]]
    sender = ScriptedSender([])
    writer(sender, max_bytes=100).index([("i", d, "x" * 40) for d in "abc"])
    assert len(sender.calls) == 3


def test_transient_failures_are_retried_until_success() -> None:
    sender = ScriptedSender([TransientBulkError("HTTP 503"), TransientBulkError("connection refused"), "ok"])
    bulk = writer(sender)
    assert bulk.index([("i", "a", "{}")]) == [Indexed(200)]
    assert bulk.retries == 2 and len(sender.calls) == 3


def test_per_document_rejections_resolve_and_429s_are_resent_alone_in_order() -> None:
    sender = ScriptedSender([[200, 400, 429], "ok"])
    ok, rejected, retried = writer(sender).index([("i", d, "{}") for d in "abc"])
    assert ok == Indexed(200) and retried == Indexed(200)
    assert isinstance(rejected, Rejected) and rejected.status == 400
    assert rejected.error_type == "mapper_parsing_exception"
    assert sender.ids(1) == ["c"]


def test_unexpected_errors_propagate() -> None:
    with pytest.raises(ValueError, match="bad credentials"):
        writer(ScriptedSender([ValueError("bad credentials")])).index([("i", "a", "{}")])


def stat(outcome: str = INDEXED) -> Stat:
    return Stat(1795391990000, outcome, "json", "web-1", "info", ("r1",), 1, False)


def test_write_counts_indexed_dead_lettered_and_rejected_and_sends_their_letters() -> None:
    letters = RecordingDeadLetters()
    sender = ScriptedSender([[200, 400, 200]])
    document = json.dumps(
        {
            "event": {"original": "raw line"},
            "logflow": {"kafka": {"topic": "logs", "partition": 1, "offset": 7}},
        }
    )
    stats = writer(sender, letters).write(
        [
            (DOC, "logs:1:6", "logs-json-2026.11.22", "{}", stat()),
            (DOC, "logs:1:7", "logs-json-2026.11.22", document, stat()),
            (DEADLETTER, "logs:1:8", "", '{"reason":"processing_error"}', stat(DEAD_LETTERED)),
            (ALERT, "logs:1:6:alert:0", "logs-logflow.alert-2026.11.22", "{}", None),
            (DOC, "logs:1:9", "logs-json-2026.11.22", "x" * (MAX_DOCUMENT_BYTES + 1), stat()),
        ]
    )
    assert sorted(s[1] for s in stats) == [DEAD_LETTERED, DEAD_LETTERED, DEAD_LETTERED, INDEXED]
    assert sender.ids(0) == ["logs:1:6", "logs:1:7", "logs:1:6:alert:0"]  # the giant is never sent
    [(topic, messages)] = letters.sent
    assert topic == "dlq"
    by_key = {key: json.loads(value) for key, value in messages}
    assert by_key["logs:1:8"] == {"reason": "processing_error"}
    assert by_key["logs:1:7"]["reason"] == "elasticsearch_mapper_parsing_exception"
    assert by_key["logs:1:7"]["event"]["original"] == "raw line"
    assert by_key["logs:1:7"]["kafka"] == {
        "topic": "logs",
        "partition": 1,
        "offset": 7,
        "timestamp": 1795391990000,
    }
    assert by_key["logs:1:9"]["reason"] == "elasticsearch_document_too_large"


def test_a_batch_without_letters_sends_none() -> None:
    letters = RecordingDeadLetters()
    assert writer(ScriptedSender([]), letters).write([(DOC, "a", "i", "{}", stat())]) == [stat()]
    assert letters.sent == []


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


def test_a_rejected_joined_event_is_one_letter_listing_every_message_it_was_made_of() -> None:
    letters = RecordingDeadLetters()
    document = json.dumps(
        {
            "event": {"original": "ERROR boom\n\tat a"},
            "logflow": {"kafka": {"topic": "logs", "partition": 1, "offset": 7, "offsets": [7, 9]}},
        }
    )
    writer(ScriptedSender([[400]]), letters).write(
        [(DOC, "logs:1:7", "logs-json-2026.11.22", document, stat())]
    )
    [(_, [(key, value)])] = letters.sent
    assert key == "logs:1:7"
    assert json.loads(value)["kafka"]["offsets"] == [7, 9]
