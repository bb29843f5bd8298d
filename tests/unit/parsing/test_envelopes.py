"""Shippers' envelopes: each shipper's sample (tests/fixtures/shippers, shaped from its documentation)
comes out as the inner line would bare, plus the shipper's metadata on ECS fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from common.parsing import ParseOptions, parse_message, parse_messages
from common.parsing.envelopes.registry import shipper

SHIPPERS = Path(__file__).resolve().parents[2] / "fixtures" / "shippers"
# 2024-03-14T10:23:20Z: just after the samples, so year-less inner stamps land in their year anyway.
OPTIONS = ParseOptions(clock=lambda: 1_710_411_800.0)


def sample(name: str) -> bytes:
    return (SHIPPERS / name).read_bytes().rstrip(b"\n")


def parsed(name: str) -> dict[str, Any]:
    return parse_message(sample(name), OPTIONS)


def bare(line: str) -> dict[str, Any]:
    return parse_message(line.encode(), OPTIONS)


def inner_line(name: str, key: str) -> str:
    line: str = json.loads(sample(name))[key]
    return line.rstrip("\n")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("filebeat_nginx.json", "filebeat"),
        ("filebeat_kubernetes.json", "filebeat"),
        ("fluentbit_klog.json", "fluent"),
        ("fluentbit_date_string.json", "fluent"),
        ("fluentd_kubernetes.json", "fluent"),
        ("vector_file_syslog.json", "vector"),
        ("vector_kubernetes_logs.json", "vector"),
        ("logstash_host_string.json", "logstash"),
        ("logstash_host_object.json", "logstash"),
        ("rsyslog_jsonmesg.json", "rsyslog"),
        ("rsyslog_list_template.json", "rsyslog"),
    ],
)
def test_each_sample_is_recognised_as_its_shipper(name: str, expected: str) -> None:
    assert shipper(json.loads(sample(name))) == expected


@pytest.mark.parametrize(
    "line",
    [
        '{"level":"info","ts":"2024-03-14T10:00:00Z","msg":"plain zap line","caller":"a.go:1"}',
        '{"@timestamp":"2024-03-14T10:00:00Z","log.level":"info","message":"ecs-logging","ecs.version":"1.6.0"}',
        '{"log":"docker json-file\\n","stream":"stdout","time":"2024-03-14T10:00:00.1Z"}',
        '{"time":"2024-03-14T10:00:00Z","level":"INFO","msg":"slog line","host":"a"}',
    ],
)
def test_plain_json_lines_are_no_envelope(line: str) -> None:
    assert shipper(json.loads(line)) is None
    assert "agent" not in bare(line)


def _without_volatile(rec: dict[str, Any], *drop: str) -> dict[str, Any]:
    out = json.loads(json.dumps(rec))
    out["event"].pop("original")
    out["event"].pop("ingested")
    for key in drop:
        out.pop(key, None)
    return out


class TestFilebeat:
    def test_nginx_access_line_in_message_is_parsed(self) -> None:
        rec = parsed("filebeat_nginx.json")
        line = inner_line("filebeat_nginx.json", "message")
        alone = bare(line)
        assert rec["event"]["dataset"] == alone["event"]["dataset"] == "nginx.access"
        assert rec["source"]["ip"] == "203.0.113.7"
        assert rec["http"]["request"]["method"] == "GET"
        assert rec["http"]["response"]["status_code"] == 200
        assert rec["url"]["original"] == "/api/items?page=2"
        assert (
            rec["@timestamp"] == alone["@timestamp"] == "2024-03-14T10:21:33.000Z"
        )  # the line's, not Filebeat's
        assert rec["message"] == alone["message"]

    def test_metadata_goes_to_ecs_fields_not_labels(self) -> None:
        rec = parsed("filebeat_nginx.json")
        assert rec["log"]["file"]["path"] == "/var/log/nginx/access.log"
        assert rec["log"]["offset"] == 81234
        assert rec["host"]["name"] == "web-01"
        assert rec["host"]["os"]["platform"] == "ubuntu"
        assert rec["agent"]["type"] == "filebeat"
        assert rec["agent"]["version"] == "8.13.0"
        assert rec["labels"] == {"input_type": "filestream"}
        assert "@metadata" not in rec and "ecs" not in rec
        assert rec["event"]["original"] == sample("filebeat_nginx.json").decode()
        assert "tags" not in rec

    def test_container_and_kubernetes_metadata_are_kept_in_filebeats_layout(self) -> None:
        rec = parsed("filebeat_kubernetes.json")
        assert rec["event"]["dataset"] == "klog"
        assert rec["message"] == '"Reconciled" object="default/web"'
        assert rec["@timestamp"] == "2024-03-14T10:21:35.100123Z"
        kube = rec["kubernetes"]
        assert kube["pod"]["name"] == "web-7d9c6b5f4-x2x9k"
        assert kube["namespace"] == "default"
        assert kube["node"]["name"] == "node-a"
        assert kube["container"]["name"] == "controller"
        assert kube["labels"]["app_kubernetes_io/name"] == "web"
        assert rec["container"]["id"] == "0123456789abcdef"
        assert rec["container"]["image"]["name"] == "registry.example.com/controller:1.4.2"
        assert rec["orchestrator"]["type"] == "kubernetes"
        assert rec["orchestrator"]["cluster"]["name"] == "prod-eu"
        assert rec["labels"]["stream"] == "stdout"

    def test_a_line_no_format_knows_keeps_filebeats_dataset(self) -> None:
        obj = json.loads(sample("filebeat_nginx.json"))
        obj["message"] = "something only a human reads"
        obj["event"] = {"dataset": "nginx.access", "module": "nginx"}
        rec = parse_message(json.dumps(obj), OPTIONS)
        assert rec["event"]["dataset"] == "nginx.access"
        assert rec["event"]["module"] == "nginx"
        assert rec["message"] == "something only a human reads"
        assert "_parse_failure" not in rec.get("tags", ())
        obj.pop("event")
        rec = parse_message(json.dumps(obj), OPTIONS)
        assert rec["event"]["dataset"] == "unknown"
        assert "_parse_failure" in rec["tags"]

    def test_a_multiline_message_keeps_its_trace(self) -> None:
        obj = json.loads(sample("filebeat_nginx.json"))
        obj["message"] = (
            "2024-03-14 10:21:39,998 ERROR [main] com.example.App - boom\n"
            "java.lang.IllegalStateException: broken\n\tat com.example.App.run(App.java:10)"
        )
        rec = parse_message(json.dumps(obj), OPTIONS)
        assert rec["log"]["level"] == "error"
        assert rec["error"]["type"] == "java.lang.IllegalStateException"
        assert "App.java:10" in rec["message"]


class TestFluent:
    def test_klog_line_in_log_is_parsed_and_kubernetes_maps_to_ecs(self) -> None:
        rec = parsed("fluentbit_klog.json")
        alone = bare(inner_line("fluentbit_klog.json", "log"))
        assert rec["event"]["dataset"] == alone["event"]["dataset"] == "klog"
        assert rec["message"] == alone["message"] == "Starting server on :8080"
        assert rec["log"]["level"] == "info"
        assert rec["@timestamp"] == "2024-03-14T10:21:35.120001Z"
        kube = rec["kubernetes"]
        assert kube["pod"] == {"name": "api-5c8f9d7b6-qwert", "uid": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"}
        assert kube["namespace"] == "shop"
        assert kube["node"]["name"] == "node-b"
        assert kube["container"]["name"] == "api"
        assert kube["labels"] == {
            "app": "api",
            "app_kubernetes_io/version": "2.3.1",
            "pod-template-hash": "5c8f9d7b6",
        }
        assert kube["annotations"]["prometheus_io/scrape"] == "true"
        assert rec["container"]["image"]["name"] == "registry.example.com/api:2.3.1"
        assert rec["container"]["id"].startswith("9f8e7d6c")
        assert not any(key.startswith("kubernetes_pod") for key in rec["labels"])
        assert rec["labels"]["stream"] == "stderr"
        assert rec["agent"]["type"] == "fluent"

    def test_float_timestamp_is_used_when_the_line_has_none(self) -> None:
        obj = json.loads(sample("fluentbit_klog.json"))
        obj["log"] = "server ready"
        del obj["time"]
        rec = parse_message(json.dumps(obj), OPTIONS)
        assert rec["@timestamp"] == "2024-03-14T10:21:35.123456Z"
        assert rec["message"] == "server ready"

    def test_date_as_string(self) -> None:
        rec = parsed("fluentbit_date_string.json")
        assert rec["event"]["dataset"] == "logfmt"
        assert rec["log"]["level"] == "warn"
        assert rec["message"] == "slow request"
        assert rec["kubernetes"]["namespace"] == "jobs"
        assert "date" not in rec["labels"]
        obj = json.loads(sample("fluentbit_date_string.json"))
        obj["log"] = "no stamp here"
        rec = parse_message(json.dumps(obj), OPTIONS)
        assert rec["@timestamp"] == "2024-03-14T10:21:36.250000Z"

    def test_fluentd_kubernetes_metadata_filter(self) -> None:
        rec = parsed("fluentd_kubernetes.json")
        assert rec["event"]["dataset"] == "klog"
        assert rec["log"]["level"] == "error"
        assert rec["container"]["id"] == "5d4c3b2a1f0e"
        assert rec["kubernetes"]["pod"]["ip"] == "10.0.0.11"
        assert rec["kubernetes"]["namespace"] == "kube-system"
        assert rec["kubernetes"]["labels"]["component"] == "kube-scheduler"
        assert rec["labels"]["kubernetes_master_url"] == "https://10.96.0.1:443/api"


class TestVector:
    def test_file_source_with_a_syslog_line(self) -> None:
        rec = parsed("vector_file_syslog.json")
        alone = bare(inner_line("vector_file_syslog.json", "message"))
        assert rec["event"]["dataset"] == alone["event"]["dataset"] == "syslog"
        assert rec["process"] == {"name": "sshd", "pid": 20144}
        assert rec["message"] == alone["message"]
        assert rec["log"]["file"]["path"] == "/var/log/syslog"
        assert rec["host"]["name"] == "db-02"
        assert rec["@timestamp"] == "2024-03-14T10:21:38.000Z"
        assert rec["agent"]["type"] == "vector"
        assert rec["labels"] == {"source_type": "file"}

    def test_kubernetes_logs_source(self) -> None:
        rec = parsed("vector_kubernetes_logs.json")
        assert rec["event"]["dataset"] == "json"
        assert rec["message"] == "payment declined"
        assert rec["log"]["level"] == "error"
        assert rec["log"]["logger"] == "cart.checkout"
        assert rec["labels"]["order_id"] == "A-1009"
        kube = rec["kubernetes"]
        assert kube["pod"]["name"] == "cart-6b7c8d9e0f-abcde"
        assert kube["namespace"] == "shop"
        assert kube["node"]["name"] == "node-d"
        assert kube["container"]["name"] == "cart"
        assert kube["labels"]["app_kubernetes_io/part-of"] == "shop"
        assert kube["annotations"] == {"checksum/config": "9a8b7c"}
        assert rec["container"] == {
            "id": "4f3e2d1c0b9a",
            "runtime": "containerd",
            "image": {"name": "registry.example.com/cart:3.1.0"},
        }
        assert rec["log"]["file"]["path"].startswith("/var/log/pods/shop_cart")


class TestLogstash:
    def test_host_as_string_and_legacy_path(self) -> None:
        rec = parsed("logstash_host_string.json")
        assert rec["host"] == {"name": "app-03"}
        assert rec["log"]["file"]["path"] == "/opt/billing/logs/billing.log"
        assert rec["tags"] == ["billing", "_grokparsefailure"]
        assert rec["labels"]["type"] == "billing"
        assert rec["log"]["level"] == "error"
        assert rec["@timestamp"] == "2024-03-14T10:21:39.998Z"
        assert rec["agent"]["type"] == "logstash"
        assert "@version" not in rec

    def test_host_as_object_and_ecs_file_path(self) -> None:
        rec = parsed("logstash_host_object.json")
        assert rec["host"] == {"name": "edge-1"}
        assert rec["event"]["dataset"] == "apache.access"
        assert rec["user"]["name"] == "frank"
        assert rec["http"]["response"]["status_code"] == 302
        assert rec["log"]["file"]["path"] == "/var/log/apache2/access.log"
        assert rec["tags"] == ["edge"]
        assert rec["event"]["original"] == sample("logstash_host_object.json").decode()


class TestRsyslog:
    def test_jsonmesg(self) -> None:
        rec = parsed("rsyslog_jsonmesg.json")
        assert rec["event"]["dataset"] == "syslog"
        assert rec["message"] == "Accepted password for alice from 192.0.2.10 port 40022 ssh2"
        assert rec["host"]["name"] == "bastion"
        assert rec["process"] == {"name": "sshd", "pid": 3301}
        assert rec["log"]["level"] == "info"
        assert rec["log"]["syslog"] == {"priority": 38, "facility": {"code": 4}, "severity": {"code": 6}}
        assert rec["@timestamp"] == "2024-03-14T10:21:42.000000Z"
        assert "_parse_failure" not in rec.get("tags", ())
        assert "rawmsg" not in rec["labels"]

    def test_list_template_with_a_json_payload(self) -> None:
        rec = parsed("rsyslog_list_template.json")
        assert rec["event"]["dataset"] == "json"
        assert rec["message"] == "backend down"
        assert rec["log"]["level"] == "warn"  # the payload's level wins over the syslog severity
        assert rec["log"]["syslog"]["facility"]["name"] == "local0"
        assert rec["@timestamp"] == "2024-03-14T09:21:43.250Z"
        assert rec["process"]["name"] == "haproxy"
        assert rec["labels"]["backend"] == "api"


def test_truncated_envelope_is_tagged_not_lost() -> None:
    raw = sample("filebeat_nginx.json")[:-40]
    [rec] = parse_messages(raw, OPTIONS)
    assert "_parse_failure" in rec["tags"]
    assert rec["event"]["original"] == raw.decode()


def test_every_sample_round_trips_its_original() -> None:
    for path in sorted(SHIPPERS.glob("*.json")):
        raw = path.read_bytes().rstrip(b"\n")
        for rec in parse_messages(raw, OPTIONS):
            assert "_parse_error" not in rec.get("tags", ()), path
            assert rec["event"]["original"], path


def test_rsyslog_marker_tests_match_the_marker_set() -> None:
    from common.parsing.envelopes import rsyslog

    assert all(rsyslog.marked({key: "x"}) for key in rsyslog.MARKERS)
    assert not rsyslog.marked({"msg": "x", "level": "info", "ts": 1})
