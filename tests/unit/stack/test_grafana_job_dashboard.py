"""deploy/grafana/dashboards/logflow-job.json and docs/metrics.md against the metrics the job defines.

The names come from jobs/metrics.py (PROMETHEUS_NAMES), not from a copied list: every logflow metric
the dashboard queries must be one the job registers, every one the job registers must be charted and
documented, and the Prometheus scrape config must reach the port the Flink reporter listens on.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from common.settings import REPO_ROOT
from jobs.metrics import PROMETHEUS_NAMES, PROMETHEUS_PREFIX

GRAFANA = REPO_ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "logflow-job.json"
DOCS = REPO_ROOT / "docs" / "metrics.md"
METRIC = re.compile(r"\b(flink_[a-zA-Z0-9_]+)")


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return exprs


def test_every_logflow_metric_queried_is_one_the_job_registers_and_every_one_is_charted() -> None:
    queried = {name for expr in _exprs(_dashboard()) for name in METRIC.findall(expr)}
    logflow = {name for name in queried if name.startswith(PROMETHEUS_PREFIX)}
    assert logflow <= set(PROMETHEUS_NAMES), logflow - set(PROMETHEUS_NAMES)
    assert set(PROMETHEUS_NAMES) <= logflow


def test_every_metric_the_dashboard_queries_is_documented() -> None:
    text = DOCS.read_text()
    # The table of the job's metrics names them after the common prefix, as `logflow_<name>`.
    short = {"flink_taskmanager_job_task_operator_" + n for n in re.findall(r"`(logflow_[a-z_]+)`", text)}
    documented = set(METRIC.findall(text)) | short
    queried = {name for expr in _exprs(_dashboard()) for name in METRIC.findall(expr)}
    assert queried <= documented, queried - documented
    assert set(PROMETHEUS_NAMES) <= documented


def test_every_query_uses_the_provisioned_prometheus_data_source() -> None:
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    (source,) = provisioned["datasources"]
    expected = {"type": "prometheus", "uid": source["uid"]}
    dashboard = _dashboard()
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == expected, panel["title"]
        for target in panel.get("targets", []):
            assert target["datasource"] == expected
    # Panels sit on the grid without overlapping.
    cells = set()
    for panel in dashboard["panels"]:
        box = panel["gridPos"]
        for x in range(box["x"], box["x"] + box["w"]):
            for y in range(box["y"], box["y"] + box["h"]):
                assert (x, y) not in cells, panel["title"]
                cells.add((x, y))
        assert box["x"] + box["w"] <= 24


def test_prometheus_scrapes_the_port_the_flink_reporter_listens_on() -> None:
    config = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    ports = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            ports |= {int(t.rsplit(":", 1)[1]) for t in static["targets"]}
        for dns in job.get("dns_sd_configs", []):
            ports.add(int(dns["port"]))
    for service in ("flink-jobmanager", "flink-taskmanager"):
        properties = yaml.safe_load(compose["services"][service]["environment"]["FLINK_PROPERTIES"])
        assert properties["metrics.reporter.prom.factory.class"].endswith("PrometheusReporterFactory")
        assert ports == {int(properties["metrics.reporter.prom.port"])}


def test_kubernetes_flink_pods_serve_and_announce_the_reporter_port() -> None:
    documents = list(yaml.safe_load_all((REPO_ROOT / "deploy" / "k8s" / "flink.yaml").read_text()))
    (config,) = [
        d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "flink-properties"
    ]
    properties = yaml.safe_load(config["data"]["FLINK_PROPERTIES"])
    assert properties["metrics.reporter.prom.factory.class"].endswith("PrometheusReporterFactory")
    port = int(properties["metrics.reporter.prom.port"])
    deployments = [d for d in documents if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {"flink-jobmanager", "flink-taskmanager"}
    for deployment in deployments:
        template = deployment["spec"]["template"]
        assert template["metadata"]["annotations"]["prometheus.io/port"] == str(port)
        (container,) = template["spec"]["containers"]
        assert {"containerPort": port, "name": "metrics"} in container["ports"]
