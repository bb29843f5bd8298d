"""deploy/grafana: every Redis query of the dashboard names a key the job writes.

The key patterns come from common/schema/stats.py (StatsKeys), not from a copied list: the
dashboard's variables are filled in with sample values and each resulting key must be one that
StatsKeys builds for that window.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.schema.stats import DEFAULT_PREFIX, StatsKeys
from common.settings import REPO_ROOT

GRAFANA = REPO_ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
# The Prometheus dashboard of the job's metrics has its own tests (test_grafana_job_dashboard.py).
REDIS_DASHBOARDS = [p for p in DASHBOARDS if '"redis-datasource"' in p.read_text()]
SAMPLE_START = 1_764_806_400
SAMPLE_WINDOW_SECONDS = 60


def _queries(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = [t for panel in dashboard["panels"] for t in panel.get("targets", [])]
    found += [
        {"type": "cli", "query": v["query"]} for v in dashboard["templating"]["list"] if v["type"] == "query"
    ]
    return found


def _key_of(query: dict[str, Any]) -> str:
    if query["type"] == "command":
        return str(query["key"])
    assert query["type"] == "cli", query
    return str(query["query"].split()[1])  # COMMAND key args...


def _render(template: str, prefix: str) -> str:
    values = {"prefix": prefix, "window_seconds": str(SAMPLE_WINDOW_SECONDS), "window": str(SAMPLE_START)}
    rendered = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)
    assert "$" not in rendered, f"unknown variable in {template}"
    return rendered


def _written_keys(prefix: str) -> set[str]:
    keys = StatsKeys(prefix, SAMPLE_WINDOW_SECONDS)
    return {keys.index, *keys.all_for(SAMPLE_START)}


def test_there_is_a_dashboard() -> None:
    assert REDIS_DASHBOARDS


@pytest.mark.parametrize("path", REDIS_DASHBOARDS, ids=lambda p: p.name)
def test_every_query_names_a_key_the_job_writes(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["prefix"]["query"] == DEFAULT_PREFIX
    queries = _queries(dashboard)
    assert queries
    for prefix in (DEFAULT_PREFIX, "other:prefix"):
        written = _written_keys(prefix)
        keys = {_render(_key_of(q), prefix) for q in queries}
        assert keys <= written, keys - written
    # The dashboard charts the same counters as /ui: the totals and every dimension.
    covered = {_render(_key_of(q), DEFAULT_PREFIX) for q in queries}
    assert covered == _written_keys(DEFAULT_PREFIX)


@pytest.mark.parametrize("path", REDIS_DASHBOARDS, ids=lambda p: p.name)
def test_every_query_uses_the_provisioned_redis_data_source(path: Path) -> None:
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "logflow.yaml").read_text())
    (source,) = datasources["datasources"]
    assert source["type"] == "redis-datasource"
    dashboard = json.loads(path.read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"] == {"type": "redis-datasource", "uid": source["uid"]}
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == source["uid"]


def test_the_dashboard_provider_points_at_a_folder() -> None:
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "logflow.yaml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
