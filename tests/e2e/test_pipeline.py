"""The job end to end on the real stack: exact documents, exact counters, rules changed mid-stream,
hostile input. One private pipeline serves the whole module (see e2e_harness)."""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from typing import Any

import pytest
from e2e_harness import Pipeline, await_rule_in_force, wait_for

from common.parsing import ParseOptions, parse_message

pytestmark = pytest.mark.e2e

KNOWN_LINES = [
    "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 rhost=218.188.2.4",
    '203.0.113.9 - - [22/Nov/2026:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "curl/8.5.0"',
    "I0511 14:33:27.919223    8794 file.go:230] Volume attached",
    'time=2026-11-22T10:00:01Z level=warn msg="disk almost full" disk=/dev/sda1',
    '{"@timestamp":"2026-11-22T10:00:02.000Z","log.level":"error","message":"payment failed","service.name":"pay"}',
    "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster",
]

VOLATILE = ("event.ingested",)


def _strip(document: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    for path in paths:
        *parents, leaf = path.split(".")
        node = document
        for part in parents:
            node = node.get(part, {})
        if isinstance(node, dict):
            node.pop(leaf, None)
    return document


def _await_count(pipeline: Pipeline, query: dict[str, Any], expected: int, timeout_s: float = 120) -> None:
    wait_for(
        f"{expected} documents matching {query}", lambda: pipeline.count(query) >= expected, timeout_s, 1.0
    )
    assert pipeline.count(query) == expected


def test_known_lines_become_exactly_the_parsed_documents(pipeline: Pipeline) -> None:
    ids = pipeline.produce(KNOWN_LINES)
    documents = pipeline.await_documents(ids)
    assert len(documents) == len(KNOWN_LINES)
    options = ParseOptions.from_env()
    for doc_id, line in zip(ids, KNOWN_LINES, strict=True):
        hit = documents[doc_id]
        topic, partition, offset = doc_id.rsplit(":", 2)
        assert topic == pipeline.logs_topic
        expected = parse_message(line.encode(), options)
        expected["event"]["id"] = doc_id
        expected["logflow"] = {"kafka": {"topic": topic, "partition": int(partition), "offset": int(offset)}}
        assert _strip(hit["_source"], VOLATILE) == _strip(expected, VOLATILE), line
        dataset = expected["event"]["dataset"]
        assert hit["_index"].startswith(f"{pipeline.index_prefix}-{dataset}-")


def test_an_otlp_message_becomes_one_document_per_log_record(pipeline: Pipeline) -> None:
    records = [
        {
            "timeUnixNano": "1795391990000000000",
            "severityText": severity,
            "body": {"stringValue": body},
            "traceId": "5b8efff798038103d269b633813fc60c",
        }
        for severity, body in (("INFO", "cart opened"), ("ERROR", "payment declined"))
    ]
    request = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
                "scopeLogs": [{"scope": {"name": "otel-e2e"}, "logRecords": records}],
            }
        ]
    }
    [message_id] = pipeline.produce([json.dumps(request)], records_per_message=len(records))
    ids = [f"{message_id}:0", f"{message_id}:1"]
    documents = pipeline.await_documents(ids)
    assert sorted(documents) == ids
    sources = [documents[doc_id]["_source"] for doc_id in ids]
    assert [d["message"] for d in sources] == ["cart opened", "payment declined"]
    assert [d["log"]["level"] for d in sources] == ["info", "error"]
    assert all(d["service"]["name"] == "checkout" for d in sources)
    assert all(d["trace"]["id"] == "5b8efff798038103d269b633813fc60c" for d in sources)
    assert [d["logflow"]["kafka"]["index"] for d in sources] == [0, 1]
    # Nothing else came of the message: no document under the bare position.
    assert pipeline.documents([message_id]) == {}


def test_window_counters_match_what_was_produced(pipeline: Pipeline) -> None:
    before = Counter[str]()
    for window in pipeline.await_windows_settled():
        before.update(window.by_dataset)
    lines = [f"Nov 22 10:00:{i % 60:02d} host-{i % 3} app[{i}]: event {i}" for i in range(90)]
    lines += [f'level=info msg="tick {i}"' for i in range(30)]
    ids = pipeline.produce(lines)
    assert len(pipeline.await_documents(ids)) == len(lines)

    # Windows close by watermark or, once the stream is quiet, by the idle timer.
    windows = pipeline.await_windows_settled()
    after = Counter[str]()
    hosts = Counter[str]()
    for window in windows:
        after.update(window.by_dataset)
        hosts.update(window.by_host)
        assert window.total == window.indexed + window.dropped + window.dead_lettered
        assert sum(window.by_dataset.values()) == window.total
        assert sum(window.by_level.values()) == window.total
        assert window.end - window.start == pipeline.window_seconds
    delta = after - before
    assert delta == Counter({"syslog": 90, "logfmt": 30})
    assert all(hosts[f"host-{h}"] == 30 for h in range(3))


def _create(pipeline: Pipeline, rule: dict[str, Any]) -> str:
    response = pipeline.api("POST", "/rules", json=rule)
    assert response.status_code == 201, response.text
    return response.headers["ETag"]


def _await_rule_effect(pipeline: Pipeline, marker: str, check: str, timeout_s: float = 60) -> float:
    """Probes until one is indexed with the tag ``check`` (or with no tags when ``check`` is "")."""

    def in_force(source: dict[str, Any]) -> bool:
        tags = source.get("tags", [])
        return check in tags if check else not tags

    return await_rule_in_force(pipeline, marker, in_force, timeout_s)


def _tags(hit: dict[str, Any]) -> list[str]:
    return list(hit["_source"].get("tags", []))


def test_rule_changes_apply_to_later_events_only(pipeline: Pipeline) -> None:
    marker = f"ruled-{time.time_ns()}"
    rule = {
        "id": f"tag-{marker}",
        "description": "tags the e2e marker",
        "enabled": True,
        "priority": 10,
        "when": {"all": [{"field": "message", "op": "contains", "value": marker}]},
        "then": [{"action": "tag", "value": "first"}],
    }

    def batch(name: str) -> list[str]:
        lines = [f"Nov 22 10:00:00 web app[7]: {marker} {name} {i}" for i in range(20)]
        pipeline.produce(lines)
        query = {"match_phrase": {"message": f"{marker} {name}"}}
        _await_count(pipeline, query, len(lines))
        return [json.dumps(_tags(h)) for h in pipeline.search(query)]

    etag = _create(pipeline, rule)
    _await_rule_effect(pipeline, marker, "first")
    assert set(batch("created")) == {'["first"]'}

    rule["then"] = [{"action": "tag", "value": "second"}]
    response = pipeline.api("PUT", f"/rules/{rule['id']}", json=rule, headers={"If-Match": etag})
    assert response.status_code == 200, response.text
    etag = response.headers["ETag"]
    _await_rule_effect(pipeline, marker, "second")
    assert set(batch("updated")) == {'["second"]'}

    response = pipeline.api("PATCH", f"/rules/{rule['id']}", json={"enabled": False})
    assert response.status_code == 200, response.text
    _await_rule_effect(pipeline, marker, "")
    assert set(batch("disabled")) == {"[]"}

    response = pipeline.api("PATCH", f"/rules/{rule['id']}", json={"enabled": True})
    assert response.status_code == 200, response.text
    _await_rule_effect(pipeline, marker, "second")
    response = pipeline.api("DELETE", f"/rules/{rule['id']}")
    assert response.status_code == 200, response.text
    _await_rule_effect(pipeline, marker, "")
    assert set(batch("deleted")) == {"[]"}

    # What was indexed before each change kept the tags it was given then.
    earlier = pipeline.search({"match_phrase": {"message": f"{marker} created"}})
    assert {json.dumps(_tags(h)) for h in earlier} == {'["first"]'}


def test_drop_and_alert_rules(pipeline: Pipeline) -> None:
    marker = f"alerting-{time.time_ns()}"
    _create(
        pipeline,
        {
            "id": f"drop-{marker}",
            "enabled": True,
            "priority": 100,
            "when": {"all": [{"field": "message", "op": "contains", "value": f"{marker} noise"}]},
            "then": [{"action": "drop"}],
        },
    )
    _create(
        pipeline,
        {
            "id": f"alert-{marker}",
            "enabled": True,
            "priority": 50,
            "when": {"all": [{"field": "message", "op": "contains", "value": f"{marker} failure"}]},
            "then": [
                {"action": "tag", "value": "alerted"},
                {"action": "alert", "severity": "high", "message": "failure on {host.name}"},
            ],
        },
    )
    _await_rule_effect(pipeline, f"{marker} failure", "alerted")
    pipeline.produce([f"Nov 22 10:00:00 db1 app[1]: {marker} noise {i}" for i in range(5)])
    pipeline.produce([f"Nov 22 10:00:00 db1 app[1]: {marker} failure {i}" for i in range(3)])
    failures = {
        "bool": {
            "must": [{"match_phrase": {"message": f"{marker} failure"}}],
            "must_not": [{"match": {"message": "probe"}}],
        }
    }
    alerted = {
        "bool": {"filter": [{"term": {"rule.id": f"alert-{marker}"}}, {"term": {"event.kind": "alert"}}]}
    }
    _await_count(pipeline, failures, 3, 120)
    wait_for(
        "three alerts",
        lambda: len([a for a in pipeline.search(alerted) if "db1" in a["_source"]["event"]["original"]]) >= 3,
        60,
    )
    alerts = [a for a in pipeline.search(alerted) if "db1" in a["_source"]["event"]["original"]]
    assert len(alerts) == 3
    assert {a["_source"]["message"] for a in alerts} == {"failure on db1"}
    assert all(a["_index"].startswith(f"{pipeline.index_prefix}-logflow.alert-") for a in alerts)
    assert all(a["_source"]["rule"]["id"] == f"alert-{marker}" for a in alerts)
    assert pipeline.count({"match_phrase": {"message": f"{marker} noise"}}) == 0
    on_topic = [
        a
        for a in pipeline.consume(pipeline.alerts_topic, expected=10_000, timeout_s=10)
        if "db1 app[1]" in json.dumps(a)
    ]
    assert len([a for a in on_topic if marker in json.dumps(a)]) == 3


def test_hostile_messages_are_indexed_tagged_or_dead_lettered(pipeline: Pipeline) -> None:
    marker = f"hostile-{time.time_ns()}"
    hostile = [
        f"\xff\xfe\x00 invalid utf8 {marker}".encode("latin-1"),
        (f"huge {marker} " + "x" * (1024 * 1024 + 100)).encode(),
        # An ECS JSON log keeps its own fields, so its bad source.ip reaches the ip-typed mapping.
        json.dumps(
            {
                "@timestamp": "2026-11-22T10:00:00Z",
                "ecs": {"version": "8.11"},
                "message": f"breaks mapping {marker}",
                "source": {"ip": "not-an-ip"},
            }
        ).encode(),
        json.dumps({"message": f"deep {marker}", "labels": {"nested": {"a": {"b": {"c": 1}}}}}).encode(),
        ("\x1b[31mred\x1b[0m " + marker).encode(),
    ]
    ids = pipeline.produce(hostile)

    def letters() -> dict[str, dict[str, Any]]:
        found = {}
        for letter in pipeline.consume(pipeline.deadletter_topic, expected=10_000, timeout_s=3):
            kafka = letter.get("kafka", {})
            found[f"{kafka.get('topic')}:{kafka.get('partition')}:{kafka.get('offset')}"] = letter
        return {doc_id: found[doc_id] for doc_id in ids if doc_id in found}

    def accounted() -> int:
        return len(pipeline.documents(ids)) + len(letters())

    wait_for("every hostile message indexed or dead-lettered", lambda: accounted() >= len(hostile), 120, 2.0)
    indexed, dead = pipeline.documents(ids), letters()
    assert set(indexed) | set(dead) == set(ids)
    assert not set(indexed) & set(dead)
    assert all(letter["reason"] and letter["error"]["message"] for letter in dead.values())
    # The JSON log that claims source.ip is not an IP cannot be indexed: it is a dead letter, with why.
    mapping_breaker = dead[ids[2]]
    assert "source.ip" in mapping_breaker["error"]["message"]
    assert json.loads(mapping_breaker["event"]["original"])["source"]["ip"] == "not-an-ip"
    assert "_invalid_utf8" in indexed[ids[0]]["_source"]["tags"]
    assert "_truncated" in indexed[ids[1]]["_source"]["tags"]
    assert "\x1b" not in json.dumps(indexed[ids[4]]["_source"]["message"])
    assert pipeline.job_state() == "RUNNING"


def test_threshold_alert_fires_once_per_count_matches_per_group(pipeline: Pipeline) -> None:
    marker = f"burst-{time.time_ns()}"
    rule_id = f"threshold-{marker}"
    _create(
        pipeline,
        {
            "id": rule_id,
            "enabled": True,
            "priority": 10,
            "when": {"all": [{"field": "message", "op": "contains", "value": marker}]},
            "then": [
                {"action": "tag", "value": "burst-candidate"},
                {
                    "action": "alert",
                    "severity": "medium",
                    "message": "burst on {host.name}",
                    "threshold": {"count": 3, "window": "5m", "group_by": ["host.name"]},
                },
            ],
        },
    )
    _await_rule_effect(pipeline, marker, "burst-candidate")
    # Seven matches from db-a (count 3: alerts at the 3rd and the 6th) and two from db-b (none).
    pipeline.produce([f"Nov 22 10:00:00 db-a app[1]: {marker} login failed {i}" for i in range(7)])
    pipeline.produce([f"Nov 22 10:00:00 db-b app[1]: {marker} login failed {i}" for i in range(2)])
    _await_count(pipeline, {"match_phrase": {"message": f"{marker} login failed"}}, 9, 120)

    query = {"bool": {"filter": [{"term": {"rule.id": rule_id}}, {"term": {"event.kind": "alert"}}]}}

    def burst_alerts() -> list[dict[str, Any]]:
        return [a for a in pipeline.search(query, size=50) if "probe" not in json.dumps(a["_source"])]

    wait_for("two threshold alerts", lambda: len(burst_alerts()) >= 2, 60)
    time.sleep(3)  # a third would have arrived by now
    alerts = burst_alerts()
    assert len(alerts) == 2
    assert {a["_source"]["message"] for a in alerts} == {"burst on db-a"}
    assert all(a["_index"].startswith(f"{pipeline.index_prefix}-logflow.alert-") for a in alerts)
    assert all(":threshold:" in a["_id"] for a in alerts)
    on_topic = [
        a
        for a in pipeline.consume(pipeline.alerts_topic, expected=10_000, timeout_s=10)
        if rule_id in json.dumps(a) and "probe" not in json.dumps(a)
    ]
    assert len(on_topic) == 2
