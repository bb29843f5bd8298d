"""The dashboards' data endpoints and the /ui page, with in-memory stats and records readers."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from api_harness import TOKENS, RecordingPublisher, settings_for_tests
from fastapi.testclient import TestClient

from common.schema.stats import WindowStats
from rules_api.main import create_app
from rules_api.overview import MAX_BUCKETS, REUSE_SECONDS, SummaryCache, bucket_seconds, summarize
from rules_api.records_reader import RecordFilter, RecordsUnavailableError
from rules_api.routers.ui import ASSETS, CONTENT_SECURITY_POLICY, STATIC
from rules_api.stats_reader import StatsUnavailableError
from rules_api.store.memory import MemoryRuleStore


@dataclass
class FakeStats:
    window_seconds: int = 60
    stored: list[WindowStats] = field(default_factory=list)
    down: bool = False
    asked: list[tuple[int, int]] = field(default_factory=list)

    async def windows(self, since_epoch: int, until_epoch: int) -> list[WindowStats]:
        self.asked.append((since_epoch, until_epoch))
        if self.down:
            raise StatsUnavailableError("Redis: connection refused")
        return [w for w in self.stored if since_epoch <= w.start <= until_epoch]

    async def close(self) -> None:
        pass


@dataclass
class FakeRecords:
    stored: list[dict[str, Any]] = field(default_factory=list)
    alert_docs: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    filters: list[RecordFilter] = field(default_factory=list)

    async def records(self, where: RecordFilter, size: int) -> list[dict[str, Any]]:
        if self.down:
            raise RecordsUnavailableError("Elasticsearch: connection refused")
        self.filters.append(where)
        found = [
            r
            for r in self.stored
            if (not where.dataset or r["event"]["dataset"] == where.dataset)
            and (not where.host or r["host"]["name"] == where.host)
            and (not where.text or where.text in r["message"])
        ]
        return found[:size]

    async def alerts(self, size: int) -> list[dict[str, Any]]:
        if self.down:
            raise RecordsUnavailableError("Elasticsearch: connection refused")
        return self.alert_docs[:size]

    async def close(self) -> None:
        pass


@dataclass
class Dash:
    client: TestClient
    stats: FakeStats
    records: FakeRecords

    def get(self, path: str, role: str | None = "viewer", token: str | None = None) -> Any:
        headers = {}
        if role is not None or token is not None:
            headers["Authorization"] = f"Bearer {token if token is not None else TOKENS[role or 'viewer']}"
        return self.client.get(path, headers=headers)


def _window(start: int, datasets: dict[str, int], **totals: int) -> WindowStats:
    total = sum(datasets.values())
    return WindowStats(
        start=start,
        end=start + 60,
        total=total,
        indexed=totals.get("indexed", total),
        dropped=totals.get("dropped", 0),
        dead_lettered=totals.get("dead_lettered", 0),
        late=totals.get("late", 0),
        by_dataset=Counter(datasets),
        by_host=Counter({"web-1": total}),
        by_level=Counter({"info": total}),
        by_rule=Counter({"ssh-invalid-user": 1}),
    )


def _record(i: int, dataset: str = "syslog", host: str = "web-1") -> dict[str, Any]:
    return {
        "_id": f"logs:0:{i}",
        "message": f"line {i}",
        "event": {"dataset": dataset, "original": f"raw {i}"},
        "host": {"name": host},
    }


@pytest.fixture
def dash() -> Iterator[Dash]:
    stats, records = FakeStats(), FakeRecords()
    app = create_app(
        settings_for_tests(),
        store=MemoryRuleStore(),
        publisher=RecordingPublisher(),
        stats=stats,
        records=records,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Dash(client, stats, records)


DATA_PATHS = ["/api/v1/whoami", "/api/v1/stats/overview", "/api/v1/records", "/api/v1/alerts"]


@pytest.mark.parametrize("path", DATA_PATHS)
def test_every_data_endpoint_needs_a_token(dash: Dash, path: str) -> None:
    missing = dash.get(path, role=None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert dash.get(path, token="not-a-configured-token").status_code == 401


@pytest.mark.parametrize("path", DATA_PATHS)
@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_every_role_can_read_the_dashboards(dash: Dash, path: str, role: str) -> None:
    assert dash.get(path, role=role).status_code == 200


@pytest.mark.parametrize(
    ("role", "can_edit", "can_admin"),
    [("viewer", False, False), ("editor", True, False), ("admin", True, True)],
)
def test_whoami_names_the_role(dash: Dash, role: str, can_edit: bool, can_admin: bool) -> None:
    body = dash.get("/api/v1/whoami", role=role).json()
    assert body == {"name": f"{role}-user", "role": role, "can_edit": can_edit, "can_admin": can_admin}


def test_overview_sums_the_windows_of_the_range(dash: Dash) -> None:
    now = int(time.time()) // 60 * 60
    dash.stats.stored = [
        _window(now - 7200, {"syslog": 1000}),  # outside the last hour
        _window(now - 600, {"syslog": 10, "unknown": 5}, indexed=12, dropped=3, late=1),
        _window(now - 300, {"nginx": 4, "unknown": 1}, dead_lettered=2, indexed=3),
    ]
    body = dash.get("/api/v1/stats/overview?range=1h&top=5").json()
    assert body["range"] == "1h"
    assert body["windows"] == 2
    assert body["totals"] == {"total": 20, "indexed": 15, "dropped": 3, "dead_lettered": 2, "late": 1}
    assert body["datasets"] == ["syslog", "unknown", "nginx"]
    assert body["unknown"] == {"count": 6, "share": 0.3}
    assert body["by_host"] == [{"name": "web-1", "count": 20}]
    assert body["by_rule"] == [{"name": "ssh-invalid-user", "count": 2}]
    assert [s["by_dataset"] for s in body["series"]] == [
        {"syslog": 10, "unknown": 5},
        {"nginx": 4, "unknown": 1},
    ]
    since, until = dash.stats.asked[-1]
    assert until - since == 3600


@pytest.mark.parametrize("query", ["range=2h", "range=", "top=0", "top=101", "top=x"])
def test_overview_rejects_bad_parameters(dash: Dash, query: str) -> None:
    response = dash.get(f"/api/v1/stats/overview?{query}")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_overview_is_503_when_redis_is_down(dash: Dash) -> None:
    dash.stats.down = True
    response = dash.get("/api/v1/stats/overview")
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    assert "Redis" in response.json()["detail"]


def test_records_filter_by_dataset_host_level_and_text(dash: Dash) -> None:
    dash.records.stored = [_record(1), _record(2, dataset="unknown"), _record(3, host="db-1")]
    body = dash.get("/api/v1/records?dataset=unknown").json()
    assert body["count"] == 1
    assert body["records"][0]["_id"] == "logs:0:2"
    dash.get("/api/v1/records?host=db-1&level=error&q=%20line%203%20&size=5")
    assert dash.records.filters[-1] == RecordFilter(dataset="", host="db-1", level="error", text="line 3")


@pytest.mark.parametrize("query", ["size=0", "size=201", "dataset=" + "x" * 300])
def test_records_reject_bad_parameters(dash: Dash, query: str) -> None:
    assert dash.get(f"/api/v1/records?{query}").status_code == 422


def test_records_and_alerts_are_503_when_elasticsearch_is_down(dash: Dash) -> None:
    dash.records.down = True
    for path in ("/api/v1/records", "/api/v1/alerts"):
        response = dash.get(path)
        assert response.status_code == 503
        assert "Elasticsearch" in response.json()["detail"]


def test_alerts_are_listed(dash: Dash) -> None:
    dash.records.alert_docs = [{"_id": "a1", "message": "failure on db1", "rule": {"id": "r"}}]
    body = dash.get("/api/v1/alerts?size=5").json()
    assert body == {"count": 1, "alerts": dash.records.alert_docs}


def test_record_filter_builds_an_elasticsearch_query() -> None:
    assert RecordFilter().query() == {"match_all": {}}
    query = RecordFilter(dataset="nginx", host="h", level="warn", text="disk full").query()
    assert query["bool"]["filter"] == [
        {"term": {"event.dataset": "nginx"}},
        {"term": {"host.name": "h"}},
        {"term": {"log.level": "warn"}},
        {"simple_query_string": {"query": "disk full", "fields": ["message"], "default_operator": "and"}},
    ]


def test_long_ranges_are_drawn_in_at_most_max_buckets() -> None:
    step = bucket_seconds(7 * 24 * 3600, 60)
    assert step % 60 == 0
    assert 7 * 24 * 3600 / step <= MAX_BUCKETS
    assert bucket_seconds(900, 60) == 60
    windows = [_window(start, {"a": 1}) for start in range(0, 7 * 24 * 3600, 60)]
    summary = summarize(windows, since=0, until=7 * 24 * 3600, window_seconds=60, top=3)
    assert len(summary["series"]) <= MAX_BUCKETS + 1
    assert sum(s["total"] for s in summary["series"]) == len(windows)


def test_ui_page_is_served_with_a_strict_content_security_policy(dash: Dash) -> None:
    page = dash.get("/ui", role=None)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    # Every script and style sheet the page names comes from this server.
    assert "http://" not in page.text and "https://" not in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    for name, media_type in ASSETS.items():
        asset = dash.get(f"/ui/static/{name}", role=None)
        assert asset.status_code == 200, name
        assert asset.headers["content-type"] == media_type
        assert asset.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "https://" not in asset.text or name == "favicon.svg"


def test_ui_serves_only_its_own_files(dash: Dash) -> None:
    for path in ("/ui/static/index.html", "/ui/static/..%2Fmain.py", "/ui/static/nothing.js"):
        assert dash.get(path, role=None).status_code == 404, path
    assert dash.client.get("/ui/", follow_redirects=False).headers["location"] == "/ui"
    served = set(ASSETS) | {"index.html"}
    assert {p.name for p in STATIC.iterdir()} == served


def test_long_ranges_reuse_their_summary_short_ones_never(dash: Dash) -> None:
    assert REUSE_SECONDS["15m"] == REUSE_SECONDS["1h"] == 0
    for _ in range(3):
        assert dash.get("/api/v1/stats/overview?range=1h").status_code == 200
    assert len(dash.stats.asked) == 3
    for _ in range(3):
        assert dash.get("/api/v1/stats/overview?range=7d").status_code == 200
    assert len(dash.stats.asked) == 4
    assert dash.get("/api/v1/stats/overview?range=7d&top=3").status_code == 200  # another key
    assert len(dash.stats.asked) == 5


def test_a_failed_read_is_not_reused(dash: Dash) -> None:
    dash.stats.down = True
    assert dash.get("/api/v1/stats/overview?range=24h").status_code == 503
    dash.stats.down = False
    assert dash.get("/api/v1/stats/overview?range=24h").status_code == 200


def test_summary_cache_expires_and_serialises_concurrent_reads() -> None:
    import asyncio

    now = [0.0]
    cache = SummaryCache(clock=lambda: now[0])
    calls: list[int] = []

    async def compute() -> dict[str, Any]:
        calls.append(1)
        await asyncio.sleep(0.01)
        return {"n": len(calls)}

    async def scenario() -> None:
        first = await asyncio.gather(*(cache.get(("7d", 10), 120, compute) for _ in range(5)))
        assert first == [{"n": 1}] * 5
        now[0] = 121
        assert await cache.get(("7d", 10), 120, compute) == {"n": 2}

    asyncio.run(scenario())
    assert len(calls) == 2
