"""The job's per-batch work: every consumed record ends as one document, drop or dead letter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from common.parsing import ParseOptions, parse_messages
from common.rules import RuleEngine
from common.schema.stats import DEAD_LETTERED, DROPPED, INDEXED
from jobs.elements import ALERT, DEADLETTER, DOC
from jobs.operators.batch import BatchContext, KafkaRecord, process_batch

TS = 1795391990000  # 2026-11-22T23:59:50Z
WINDOW = 60

SSHD = b"Nov 22 23:59:50 web-1 sshd[42]: Invalid user admin from 10.0.0.9 port 22"
NGINX = b'10.1.2.3 - - [22/Nov/2026:23:59:50 +0000] "GET /x HTTP/1.1" 404 12 "-" "curl/8"'


def rec(payload: bytes | None, offset: int, ts: int = TS) -> KafkaRecord:
    return (payload, "logs", 0, offset, ts)


def parse(raw: bytes) -> list[dict[str, Any]]:
    return parse_messages(raw, ParseOptions())


@pytest.fixture(scope="module")
def engine() -> Iterator[RuleEngine]:
    with RuleEngine(count_thresholds=False) as rule_engine:
        yield rule_engine


def context(engine: Any) -> BatchContext:
    return BatchContext(parse=parse, engine=engine, index_prefix="logs", window_seconds=WINDOW)


def test_each_record_becomes_a_document_with_its_kafka_id_index_and_stat(engine: RuleEngine) -> None:
    engine.replace_all([])
    out = process_batch([rec(SSHD, 7), rec(NGINX, 8)], 0, context(engine))
    assert [w[0] for w in out.writes] == [DOC, DOC]
    _, doc_id, index, body, stat = out.writes[0]
    assert doc_id == "logs:0:7" and index == "logs-syslog-2026.11.22"
    document = json.loads(body)
    assert document["event"]["id"] == "logs:0:7"
    assert document["logflow"] == {"kafka": {"topic": "logs", "partition": 0, "offset": 7}}
    assert document["event"]["original"] == SSHD.decode()
    assert stat == (TS, INDEXED, "syslog", "web-1", "-", (), 1, False)
    assert out.writes[1][2] == "logs-nginx.access-2026.11.22"
    assert out.dropped_stats == [] and out.alerts == [] and out.threshold_candidates == []


def test_rules_apply_per_record_drops_are_summed_and_alerts_are_indexed_and_published(
    engine: RuleEngine,
) -> None:
    engine.replace_all(
        [
            {
                "id": "drop-nginx",
                "when": {"field": "event.dataset", "op": "eq", "value": "nginx.access"},
                "then": [{"action": "drop"}],
            },
            {
                "id": "ssh-alert",
                "when": {"field": "message", "op": "matches", "value": "^Invalid user"},
                "then": [{"action": "alert", "severity": "high", "message": "bad ssh"}],
            },
            {
                "id": "ssh-burst",
                "when": {"field": "process.name", "op": "eq", "value": "sshd"},
                "then": [
                    {
                        "action": "alert",
                        "severity": "low",
                        "message": "burst",
                        "threshold": {"count": 3, "window": "1m", "group_by": ["host.name"]},
                    }
                ],
            },
        ]
    )
    try:
        out = process_batch([rec(NGINX, 1), rec(SSHD, 2), rec(NGINX, 3)], 0, context(engine))
    finally:
        engine.replace_all([])
    assert out.dropped_stats == [
        (TS - TS % 60000, DROPPED, "nginx.access", "-", "-", ("drop-nginx",), 2, False)
    ]
    kinds = [w[0] for w in out.writes]
    assert kinds == [DOC, ALERT]
    assert json.loads(out.writes[0][3])["rule"]["id"] == ["ssh-alert", "ssh-burst"]
    assert out.writes[1][1] == "logs:0:2:alert:0"
    assert json.loads(out.alerts[0])["message"] == "bad ssh"
    [(key, hit, ts_ms, doc_id)] = out.threshold_candidates
    assert hit.rule_id == "ssh-burst" and key == hit.key and ts_ms == TS and doc_id == "logs:0:2"


def test_late_is_decided_from_the_watermark_when_the_batch_is_read(engine: RuleEngine) -> None:
    engine.replace_all([])
    window_end = TS - TS % 60000 + 60000
    out = process_batch([rec(SSHD, 1)], window_end - 1, context(engine))
    stat = out.writes[0][4]
    assert stat is not None and stat[-1] is True
    out = process_batch([rec(SSHD, 1)], window_end - 2, context(engine))
    stat = out.writes[0][4]
    assert stat is not None and stat[-1] is False


class FailingEngine:
    """Fails any batch that holds a record whose message contains "poison"."""

    def __init__(self) -> None:
        self.calls = 0

    def apply_batch(self, records: list[dict[str, Any]]) -> list[Any]:
        self.calls += 1
        if any("poison" in r["message"] for r in records):
            raise RuntimeError("engine host died")
        return [_Result(r) for r in records]


class _Result:
    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self.dropped = False
        self.hits: list[str] = []
        self.alerts: list[dict[str, Any]] = []
        self.threshold_hits: list[Any] = []


def test_a_record_the_rules_fail_on_is_dead_lettered_and_the_rest_of_its_batch_indexed() -> None:
    failing = FailingEngine()
    out = process_batch([rec(b"fine one", 1), rec(b"poison", 2), rec(b"fine two", 3)], 0, context(failing))
    assert failing.calls == 4  # the batch, then each record alone
    assert [(w[0], w[1]) for w in out.writes] == [
        (DEADLETTER, "logs:0:2"),
        (DOC, "logs:0:1"),
        (DOC, "logs:0:3"),
    ]
    letter = json.loads(out.writes[0][3])
    assert letter["reason"] == "processing_error" and "engine host died" in letter["error"]["message"]
    assert letter["event"]["original"] == "poison"
    assert out.writes[0][4] == (TS, DEAD_LETTERED, "unknown", "-", "-", (), 1, False)


def test_parse_failures_and_unserialisable_documents_are_dead_lettered() -> None:
    def fragile_parse(raw: bytes) -> list[dict[str, Any]]:
        if raw == b"boom":
            raise ValueError("parser bug")
        documents = parse(raw)
        if raw == b"set":
            documents[0]["y"] = {(1, 2): 3}  # what no JSON can hold
        return documents

    ctx = BatchContext(parse=fragile_parse, engine=FailingEngine(), index_prefix="logs", window_seconds=60)
    out = process_batch([rec(b"boom", 1), rec(b"set", 2), rec(None, 3)], 0, ctx)
    by_id = {w[1]: w for w in out.writes}
    assert by_id["logs:0:1"][0] == DEADLETTER and "parser bug" in by_id["logs:0:1"][3]
    assert by_id["logs:0:2"][0] == DEADLETTER and "keys must be" in by_id["logs:0:2"][3]
    assert by_id["logs:0:3"][0] == DOC  # an empty (tombstone) message is still a record
    assert len(out.writes) == 3


def _otlp_request(*bodies: str) -> bytes:
    records = [
        {"timeUnixNano": "1795391990000000000", "severityText": "ERROR", "body": {"stringValue": body}}
        for body in bodies
    ]
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]}
    request = {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": records}]}]}
    return json.dumps(request).encode()


def test_an_otlp_message_fans_out_into_one_document_per_log_record(engine: RuleEngine) -> None:
    engine.replace_all([])
    out = process_batch(
        [rec(SSHD, 6), rec(_otlp_request("first", "second", "third"), 7), rec(NGINX, 8)], 0, context(engine)
    )
    ids = [w[1] for w in out.writes]
    assert ids == ["logs:0:6", "logs:0:7:0", "logs:0:7:1", "logs:0:7:2", "logs:0:8"]
    fanned = [json.loads(w[3]) for w in out.writes[1:4]]
    assert [d["message"] for d in fanned] == ["first", "second", "third"]
    assert [d["event"]["id"] for d in fanned] == ids[1:4]
    assert [d["logflow"]["kafka"] for d in fanned] == [
        {"topic": "logs", "partition": 0, "offset": 7, "index": i} for i in range(3)
    ]
    assert all(d["service"]["name"] == "checkout" for d in fanned)
    # Each record of the message counts once in the statistics.
    stats = [w[4] for w in out.writes]
    assert all(stat is not None and stat.outcome == INDEXED and stat.events == 1 for stat in stats)
    # A replay of the same message gives the same ids: documents are overwritten, never duplicated.
    again = process_batch([rec(_otlp_request("first", "second", "third"), 7)], 0, context(engine))
    assert [w[1] for w in again.writes] == ids[1:4]


def test_indexed_error_records_become_sightings_of_their_group(engine: RuleEngine) -> None:
    error = b"2026-11-22 23:59:50,001 ERROR [main] org.example.Pay: upstream 10.0.0.5:8443 returned 502"
    engine.replace_all(
        [
            {
                "id": "drop-502",
                "when": {"field": "message", "op": "contains", "value": "returned 503"},
                "then": [{"action": "drop"}],
            }
        ]
    )
    try:
        dropped = error.replace(b"502", b"503")
        out = process_batch([rec(error, 1), rec(SSHD, 2), rec(dropped, 3)], 0, context(engine))
    finally:
        engine.replace_all([])
    [sighting] = out.error_sightings  # not the info line, not the dropped error
    document = json.loads(out.writes[0][3])
    assert sighting.fingerprint == document["error"]["fingerprint"]
    assert sighting.doc_id == "logs:0:1" and sighting.ts_ms == TS and sighting.late is False
    assert sighting.template == "upstream <ip>:<port> returned <num>"
    assert sighting.at == 1795391990.001 and sighting.dataset == document["event"]["dataset"]
