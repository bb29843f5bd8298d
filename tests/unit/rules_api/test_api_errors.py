"""GET /api/v1/errors and /api/v1/errors/{fingerprint} over groups held in memory."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from api_harness import TOKENS, RecordingPublisher, settings_for_tests
from fastapi.testclient import TestClient

from common.schema.error_groups import ErrorGroup
from rules_api.error_groups import MemoryErrorGroups
from rules_api.main import create_app
from rules_api.store.memory import MemoryRuleStore

HOUR = 3600.0


def groups_seen_before(now: float) -> list[ErrorGroup]:
    """The groups, with their times relative to ``now``: taken when each test starts, not when the
    module is imported (in a full run, the e2e tests run for half an hour in between)."""
    return [
        # fingerprint, count, first seen, last seen (seconds ago)
        ErrorGroup(
            "aaaa000000000001", 500, now - 30 * 24 * HOUR, now - 2 * HOUR, "db down", "java.io.IOException"
        ),
        ErrorGroup(
            "aaaa000000000002", 3, now - 1 * HOUR, now - 60, "order 1 failed", "", "log4j", "web-1", "shop"
        ),
        ErrorGroup("aaaa000000000003", 40, now - 5 * HOUR, now - 10 * 60, "panic", "panic"),
        ErrorGroup("aaaa000000000004", 9, now - 9 * 24 * HOUR, now - 3 * 24 * HOUR, "old", "KeyError"),
    ]


VIEWER = {"Authorization": f"Bearer {TOKENS['viewer']}"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    source = MemoryErrorGroups(
        groups_seen_before(time.time()), index_prefix="logs", es_url="http://127.0.0.1:9200"
    )
    app = create_app(
        settings_for_tests(), store=MemoryRuleStore(), publisher=RecordingPublisher(), error_groups=source
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def fingerprints(client: TestClient, query: str) -> list[str]:
    response = client.get(f"/api/v1/errors{query}", headers=VIEWER)
    assert response.status_code == 200, response.text
    return [g["fingerprint"] for g in response.json()["groups"]]


def test_errors_need_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/errors").status_code == 401
    assert client.get("/api/v1/errors/aaaa000000000001").status_code == 401


def test_default_lists_the_last_day_most_recent_first(client: TestClient) -> None:
    assert fingerprints(client, "") == ["aaaa000000000002", "aaaa000000000003", "aaaa000000000001"]


def test_order_by_count_since_and_limit(client: TestClient) -> None:
    assert fingerprints(client, "?order=count") == [
        "aaaa000000000001",
        "aaaa000000000003",
        "aaaa000000000002",
    ]
    assert fingerprints(client, "?since=7d&order=count&limit=2") == ["aaaa000000000001", "aaaa000000000003"]
    assert fingerprints(client, "?since=30m") == ["aaaa000000000002", "aaaa000000000003"]


def test_new_lists_only_groups_first_seen_in_the_span(client: TestClient) -> None:
    assert fingerprints(client, "?new=true&since=2h") == ["aaaa000000000002"]
    assert fingerprints(client, "?new=true") == ["aaaa000000000002", "aaaa000000000003"]


def test_a_span_longer_than_the_epoch_lists_everything(client: TestClient) -> None:
    response = client.get("/api/v1/errors?since=99999999999d&order=count", headers=VIEWER)
    assert response.status_code == 200, response.text
    assert response.json()["since"] == "1970-01-01T00:00:00.000Z" and len(response.json()["groups"]) == 4


@pytest.mark.parametrize(
    "query",
    ["?since=yesterday", "?since=0h", "?since=1234567890123d", "?order=name", "?limit=0", "?new=maybe"],
)
def test_bad_parameters_are_422(client: TestClient, query: str) -> None:
    response = client.get(f"/api/v1/errors{query}", headers=VIEWER)
    assert response.status_code == 422, response.text


def test_one_group_carries_its_sample_and_the_search_for_its_records(client: TestClient) -> None:
    response = client.get("/api/v1/errors/aaaa000000000002", headers=VIEWER)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["sample"]["host"] == "web-1" and body["sample"]["service"] == "shop"
    assert body["first_seen"].endswith("Z") and body["last_seen"] > body["first_seen"]
    records = body["records"]
    assert records["index"] == "logs-*,-logs-logflow.alert-*"
    assert records["query"]["query"] == {"term": {"error.fingerprint": "aaaa000000000002"}}
    assert records["search_url"].startswith("http://127.0.0.1:9200/logs-*,-logs-logflow.alert-*/_search?q=")
    assert 'error.fingerprint:"aaaa000000000002"' in unquote(records["search_url"])


def test_an_unknown_group_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/errors/ffff", headers=VIEWER)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
