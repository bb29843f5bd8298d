"""OTLP logs from Kafka: otlp_json and otlp_proto requests fan out into one record per log record."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from common.parsing import ParseOptions, parse_message, parse_messages
from common.parsing.cli import parse_stream

SHIPPERS = Path(__file__).resolve().parents[2] / "fixtures" / "shippers"
OPTIONS = ParseOptions(clock=lambda: 1_710_411_800.0)
TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SYSLOG = "<34>Mar 14 10:21:45 gw-1 su[511]: 'su root' failed for lonvick on /dev/pts/8"


def otlp_json() -> bytes:
    return (SHIPPERS / "otel_otlp_json.json").read_bytes().rstrip(b"\n")


def _kv(key: str, value: str | int) -> KeyValue:
    any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=any_value)


def otlp_proto() -> bytes:
    resource = Resource(
        attributes=[
            _kv("service.name", "inventory"),
            _kv("service.version", "4.2.0"),
            _kv("host.name", "node-f"),
            _kv("k8s.pod.name", "inventory-0"),
            _kv("k8s.namespace.name", "shop"),
            _kv("k8s.container.name", "inventory"),
            _kv("k8s.node.name", "node-f"),
            _kv("deployment.environment.name", "prod"),
        ]
    )
    records = [
        LogRecord(
            time_unix_nano=1_710_411_706_000_000_001,
            observed_time_unix_nano=1_710_411_706_500_000_000,
            severity_number=SeverityNumber.SEVERITY_NUMBER_WARN,
            severity_text="Warning",
            body=AnyValue(string_value="stock low"),
            attributes=[_kv("sku", "X-1"), _kv("count", 3)],
            trace_id=TRACE,
            span_id=bytes.fromhex("eee19b7ec3c1b174"),
            flags=1,
        ),
        LogRecord(
            time_unix_nano=1_710_411_707_000_000_000,
            severity_number=SeverityNumber.SEVERITY_NUMBER_FATAL,  # no text: the level comes from the number
            body=AnyValue(
                kvlist_value=KeyValueList(values=[_kv("msg", "disk gone"), _kv("device", "/dev/sdb")])
            ),
        ),
        LogRecord(observed_time_unix_nano=1_710_411_708_000_000_000, body=AnyValue(string_value=SYSLOG)),
    ]
    scope = ScopeLogs(
        scope=InstrumentationScope(name="inventory.worker", version="4.2.0"), log_records=records
    )
    request = ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=resource, scope_logs=[scope])])
    return request.SerializeToString()


class TestJson:
    def test_two_records_and_a_third_resource_fan_out_in_order(self) -> None:
        records = parse_messages(otlp_json(), OPTIONS)
        assert [r["message"] for r in records] == [
            "payment provider timed out",
            "retrying payment",
            "'su root' failed for lonvick on /dev/pts/8",
        ]

    def test_severity_time_and_trace_ids(self) -> None:
        first, second, _ = parse_messages(otlp_json(), OPTIONS)
        assert first["log"]["level"] == "error"
        assert first["event"]["severity"] == 17
        assert first["@timestamp"] == "2024-03-14T10:21:44.123456Z"
        assert first["event"]["created"] == "2024-03-14T10:21:44.125Z"
        assert first["trace"]["id"] == "5b8efff798038103d269b633813fc60c"
        assert first["span"]["id"] == "eee19b7ec3c1b174"
        assert first["labels"]["otel_trace_flags"] == "1"
        assert second["log"]["level"] == "info"
        assert second["span"]["id"] == "eee19b7ec3c1b175"

    def test_resource_scope_and_record_attributes(self) -> None:
        first, second, third = parse_messages(otlp_json(), OPTIONS)
        assert first["service"] == {"name": "checkout", "version": "1.8.0"}
        assert first["host"]["name"] == "node-e"
        kube = first["kubernetes"]
        assert kube["pod"]["name"] == "checkout-7f6d5c4b3a-zz9yx"
        assert kube["namespace"] == "shop"
        assert kube["node"]["name"] == "node-e"
        assert kube["container"]["name"] == "checkout"
        assert kube["labels"] == {"app_kubernetes_io/name": "checkout"}
        assert first["orchestrator"]["type"] == "kubernetes"
        assert first["container"]["id"] == "e1d2c3b4a596"
        assert first["cloud"] == {"provider": "aws", "region": "eu-west-1"}
        assert first["error"]["type"] == "java.net.SocketTimeoutException"
        assert first["log"]["logger"] == "com.example.checkout.PaymentService"
        assert first["labels"]["order_id"] == "A-1010"
        assert first["labels"]["retry"] == "2"
        assert first["labels"]["telemetry_sdk_language"] == "java"
        assert "order_id" not in second["labels"]  # record attributes stay with their record
        assert third["service"] == {"name": "syslog-gateway"}
        assert "kubernetes" not in third
        assert all(r["event"]["dataset"] == "otel" for r in (first, second))
        assert all(r["agent"]["type"] == "opentelemetry" for r in (first, second, third))

    def test_a_body_that_is_a_syslog_line_is_parsed(self) -> None:
        third = parse_messages(otlp_json(), OPTIONS)[2]
        bare = parse_message(SYSLOG.encode(), OPTIONS)
        assert third["event"]["dataset"] == bare["event"]["dataset"] == "syslog"
        assert third["host"]["name"] == "gw-1"
        assert third["process"] == {"name": "su", "pid": 511}
        assert third["log"]["level"] == bare["log"]["level"]
        assert third["@timestamp"] == "2024-03-14T10:21:45.000Z"

    def test_each_record_keeps_its_own_log_record_as_original(self) -> None:
        records = parse_messages(otlp_json(), OPTIONS)
        originals = [json.loads(r["event"]["original"]) for r in records]
        assert originals[0]["spanId"] == "eee19b7ec3c1b174"
        assert originals[1]["body"] == {"stringValue": "retrying payment"}
        assert len({r["event"]["original"] for r in records}) == 3

    def test_parse_message_gives_the_first_record(self) -> None:
        assert parse_message(otlp_json(), OPTIONS)["message"] == "payment provider timed out"

    def test_same_bytes_same_records(self) -> None:
        assert parse_messages(otlp_json(), OPTIONS) == parse_messages(otlp_json(), OPTIONS)

    def test_truncated_request_is_tagged(self) -> None:
        raw = otlp_json()[:-25]
        [rec] = parse_messages(raw, OPTIONS)
        assert "_otlp_invalid" in rec["tags"]
        assert rec["event"]["original"] == raw.decode()

    def test_request_without_records_gives_one_tagged_record(self) -> None:
        [rec] = parse_messages(b'{"resourceLogs":[]}', OPTIONS)
        assert rec["tags"] == ["_otlp_empty"]
        assert rec["event"]["original"] == '{"resourceLogs":[]}'

    def test_logflow_parse_prints_one_line_per_record(self) -> None:
        sink = io.StringIO()
        source = io.BytesIO(otlp_json() + b"\n" + b"Mar 14 10:21:45 gw-1 su[511]: bare line\n")
        assert parse_stream(source, sink, OPTIONS) == 0
        lines = sink.getvalue().splitlines()
        assert len(lines) == 4
        assert json.loads(lines[3])["message"] == "bare line"


class TestProto:
    def test_records_fan_out_with_ids_in_hex(self) -> None:
        first, second, _ = parse_messages(otlp_proto(), OPTIONS)
        assert first["message"] == "stock low"
        assert first["trace"]["id"] == TRACE.hex()
        assert first["span"]["id"] == "eee19b7ec3c1b174"
        assert first["@timestamp"] == "2024-03-14T10:21:46.000Z"  # microseconds, as for every stamp
        assert first["event"]["created"] == "2024-03-14T10:21:46.500Z"
        assert first["log"]["level"] == "warn"
        assert first["event"]["severity"] == 13
        assert first["labels"]["sku"] == "X-1"
        assert first["labels"]["count"] == "3"
        assert first["service"] == {"name": "inventory", "version": "4.2.0", "environment": "prod"}
        assert first["kubernetes"]["pod"]["name"] == "inventory-0"
        assert first["log"]["logger"] == "inventory.worker"
        assert second["log"]["level"] == "fatal"
        assert second["event"]["severity"] == 21
        assert "trace" not in second

    def test_a_map_body_is_read_as_a_json_line(self) -> None:
        second = parse_messages(otlp_proto(), OPTIONS)[1]
        assert second["message"] == "disk gone"
        assert second["labels"]["device"] == "/dev/sdb"

    def test_body_syslog_line_and_observed_time_as_timestamp(self) -> None:
        third = parse_messages(otlp_proto(), OPTIONS)[2]
        assert third["event"]["dataset"] == "syslog"
        assert third["process"]["name"] == "su"
        assert third["event"]["created"] == "2024-03-14T10:21:48.000Z"

    def test_garbage_protobuf_is_a_tagged_record(self) -> None:
        garbage = b"\x0a\xff\xff\xff\xff\x0f\x80\x81garbage"
        [rec] = parse_messages(garbage, OPTIONS)
        assert "_otlp_invalid" in rec["tags"]
        assert "_invalid_utf8" in rec["tags"]

    def test_truncated_protobuf_is_a_tagged_record(self) -> None:
        raw = otlp_proto()[:-7]
        [rec] = parse_messages(raw, OPTIONS)
        assert "_otlp_invalid" in rec["tags"]

    def test_forced_encoding(self) -> None:
        assert len(parse_messages(otlp_proto(), replace(OPTIONS, otlp="proto"))) == 3
        [rec] = parse_messages(b"plain text line", replace(OPTIONS, otlp="proto"))
        assert "_otlp_invalid" in rec["tags"]
        [rec] = parse_messages(otlp_json(), replace(OPTIONS, otlp="off"))
        assert "agent" not in rec

    def test_text_that_starts_with_a_newline_is_still_a_line(self) -> None:
        [rec] = parse_messages(b"\nJun 14 15:16:01 combo sshd[19939]: authentication failure", OPTIONS)
        assert "_otlp_invalid" not in rec.get("tags", ())

    def test_logflow_parse_reads_a_proto_file_whole(self) -> None:
        sink = io.StringIO()
        assert parse_stream(io.BytesIO(otlp_proto()), sink, replace(OPTIONS, otlp="proto")) == 0
        assert len(sink.getvalue().splitlines()) == 3


@pytest.mark.parametrize(
    ("number", "level"), [(1, "trace"), (5, "debug"), (9, "info"), (13, "warn"), (17, "error"), (24, "fatal")]
)
def test_severity_number_ranges(number: int, level: str) -> None:
    request: dict[str, Any] = {
        "resourceLogs": [
            {"scopeLogs": [{"logRecords": [{"severityNumber": number, "body": {"stringValue": "x"}}]}]}
        ]
    }
    [rec] = parse_messages(json.dumps(request, separators=(",", ":")), OPTIONS)
    assert rec["log"]["level"] == level
    assert rec["event"]["severity"] == number


def test_options_reject_an_unknown_encoding() -> None:
    with pytest.raises(ValueError, match="otlp"):
        ParseOptions(otlp="avro")
    assert ParseOptions.from_env({"LOGFLOW_PARSE_OTLP": "PROTO"}).otlp == "proto"
