"""The dashboards' data endpoints of a real `logflow api serve` against the real Redis and
Elasticsearch: counters written with the job's own Redis writer, documents indexed under the job's
index template, each under a prefix private to this run."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from api_stack import Isolation, Server, ServerFactory

from common.schema.stats import StatsKeys, WindowStats
from common.settings import ElasticsearchSettings, RedisSettings
from jobs.sinks.elasticsearch.template import install_index_template
from jobs.sinks.redis_stats import connect, write_window

pytestmark = pytest.mark.integration

WINDOW = 60


@pytest.fixture(scope="module")
def prefixes() -> Iterator[tuple[str, str]]:
    run = uuid.uuid4().hex[:10]
    stats_prefix, index_prefix = f"logflow:dash-test-{run}", f"dash-test-{run}"
    yield stats_prefix, index_prefix
    client = connect(RedisSettings.from_env())
    try:
        keys = list(client.scan_iter(match=f"{stats_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
    es = _es()
    try:
        es.options(ignore_status=404).indices.delete(index=f"{index_prefix}-*")
        es.options(ignore_status=404).indices.delete_index_template(name=f"{index_prefix}-logflow")
    finally:
        es.close()


def _es() -> Any:
    from elasticsearch import Elasticsearch

    return Elasticsearch(**ElasticsearchSettings.from_env().client_kwargs(), request_timeout=30)


@pytest.fixture(scope="module")
def dash_server(servers: ServerFactory, prefixes: tuple[str, str]) -> Server:
    stats_prefix, index_prefix = prefixes
    return servers.start(
        LOGFLOW_STATS_PREFIX=stats_prefix,
        LOGFLOW_INDEX_PREFIX=index_prefix,
        LOGFLOW_WINDOW_SECONDS=str(WINDOW),
    )


def _get(server: Server, isolation: Isolation, path: str, role: str = "viewer") -> httpx.Response:
    return httpx.get(server.url + path, headers=isolation.auth(role), timeout=15)


def test_overview_reads_the_windows_the_job_writer_wrote(
    dash_server: Server, isolation: Isolation, prefixes: tuple[str, str]
) -> None:
    keys = StatsKeys(prefixes[0], WINDOW)
    now = int(time.time()) // WINDOW * WINDOW
    client = connect(RedisSettings.from_env())
    try:
        for start, datasets in (
            (now - 2 * 3600, {"syslog": 500}),  # outside the last hour
            (now - 20 * 60, {"syslog": 7, "unknown": 3}),
            (now - 5 * 60, {"nginx": 10}),
        ):
            total = sum(datasets.values())
            window = WindowStats(
                start=start,
                end=start + WINDOW,
                total=total,
                indexed=total - 1,
                dropped=1,
                by_dataset=Counter(datasets),
                by_host=Counter({"web-1": total - 2, "db-1": 2}),
                by_level=Counter({"info": total}),
                by_rule=Counter({"drop-noise": 1}),
            )
            write_window(client, keys, window, 3 * 3600)
    finally:
        client.close()

    body = _get(dash_server, isolation, "/api/v1/stats/overview?range=1h&top=1").json()
    assert body["windows"] == 2
    assert body["totals"] == {"total": 20, "indexed": 18, "dropped": 2, "dead_lettered": 0, "late": 0}
    assert body["datasets"] == ["nginx", "syslog", "unknown"]
    assert body["by_host"] == [{"name": "web-1", "count": 16}]
    assert body["by_rule"] == [{"name": "drop-noise", "count": 2}]
    assert body["unknown"] == {"count": 3, "share": 0.15}
    assert _get(dash_server, isolation, "/api/v1/stats/overview?range=24h").json()["totals"]["total"] == 520


def test_records_and_alerts_come_from_the_job_indices(
    dash_server: Server, isolation: Isolation, prefixes: tuple[str, str]
) -> None:
    index_prefix = prefixes[1]
    es = _es()
    day = datetime.now(UTC).strftime("%Y.%m.%d")
    try:
        install_index_template(es, index_prefix)
        for i, (dataset, host, level, message) in enumerate(
            [
                ("syslog", "web-1", "info", "session opened for user root"),
                ("unknown", "", "", "something no parser knows"),
                ("syslog", "db-1", "error", "disk full on /var"),
            ]
        ):
            stamp = datetime.fromtimestamp(time.time() - 10 + i, UTC).isoformat().replace("+00:00", "Z")
            document: dict[str, Any] = {
                "@timestamp": stamp,
                "message": message,
                "event": {"dataset": dataset, "ingested": stamp, "original": f"raw: {message}"},
            }
            if host:
                document["host"] = {"name": host}
            if level:
                document["log"] = {"level": level}
            es.index(index=f"{index_prefix}-{dataset}-{day}", id=f"doc-{i}", document=document, refresh=True)
        es.index(
            index=f"{index_prefix}-logflow.alert-{day}",
            id="alert-1",
            document={
                "@timestamp": "2026-12-04T10:00:00Z",
                "message": "disk full on db-1",
                "rule": {"id": "disk"},
            },
            refresh=True,
        )
    finally:
        es.close()

    newest = _get(dash_server, isolation, "/api/v1/records").json()
    assert [r["_id"] for r in newest["records"]] == ["doc-2", "doc-1", "doc-0"]  # newest first, no alerts
    unknown = _get(dash_server, isolation, "/api/v1/records?dataset=unknown").json()
    assert [r["event"]["original"] for r in unknown["records"]] == ["raw: something no parser knows"]
    assert _ids(dash_server, isolation, "host=db-1") == ["doc-2"]
    assert _ids(dash_server, isolation, "level=info") == ["doc-0"]
    assert _ids(dash_server, isolation, "q=disk%20full") == ["doc-2"]
    assert _ids(dash_server, isolation, "q=nothing-like-this") == []
    alerts = _get(dash_server, isolation, "/api/v1/alerts").json()
    assert [a["_id"] for a in alerts["alerts"]] == ["alert-1"]


def _ids(server: Server, isolation: Isolation, query: str) -> list[str]:
    return [r["_id"] for r in _get(server, isolation, f"/api/v1/records?{query}").json()["records"]]


def test_data_endpoints_need_a_token_and_a_viewer_may_read(dash_server: Server, isolation: Isolation) -> None:
    for path in ("/api/v1/whoami", "/api/v1/stats/overview", "/api/v1/records", "/api/v1/alerts"):
        assert httpx.get(dash_server.url + path, timeout=15).status_code == 401
        wrong = httpx.get(dash_server.url + path, headers={"Authorization": "Bearer nope"}, timeout=15)
        assert wrong.status_code == 401
        assert _get(dash_server, isolation, path, "viewer").status_code == 200
    assert _get(dash_server, isolation, "/api/v1/whoami").json()["role"] == "viewer"


def test_an_empty_prefix_is_an_empty_overview_not_an_error(
    servers: ServerFactory, isolation: Isolation
) -> None:
    server = servers.start(
        LOGFLOW_STATS_PREFIX=f"logflow:nothing-{uuid.uuid4().hex[:8]}",
        LOGFLOW_INDEX_PREFIX=f"nothing-{uuid.uuid4().hex[:8]}",
    )
    body = _get(server, isolation, "/api/v1/stats/overview?range=15m").json()
    assert body["windows"] == 0 and body["series"] == [] and body["totals"]["total"] == 0
    assert _get(server, isolation, "/api/v1/records").json() == {"count": 0, "records": []}
    assert _get(server, isolation, "/api/v1/alerts").json() == {"count": 0, "alerts": []}
