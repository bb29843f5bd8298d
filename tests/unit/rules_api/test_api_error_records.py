"""GET /api/v1/errors/{fingerprint}/records: a group's newest records, read by the API (the page
never talks to Elasticsearch), over an in-memory records reader."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from api_harness import TOKENS, RecordingPublisher, settings_for_tests
from fastapi.testclient import TestClient

from rules_api.error_groups import MemoryErrorGroups
from rules_api.main import create_app
from rules_api.records_reader import RecordFilter, RecordsUnavailableError
from rules_api.store.memory import MemoryRuleStore

FP = "aaaa000000000002"


@dataclass
class FingerprintRecords:
    """Filters like Elasticsearch would on the one field this endpoint sets."""

    stored: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    asked: list[tuple[RecordFilter, int]] = field(default_factory=list)

    async def records(self, where: RecordFilter, size: int) -> list[dict[str, Any]]:
        if self.down:
            raise RecordsUnavailableError("Elasticsearch: connection refused")
        self.asked.append((where, size))
        return [r for r in self.stored if r["error"]["fingerprint"] == where.fingerprint][:size]

    async def alerts(self, size: int) -> list[dict[str, Any]]:
        return []

    async def close(self) -> None:
        pass


def _record(i: int, fingerprint: str) -> dict[str, Any]:
    return {"_id": f"logs:0:{i}", "message": f"order {i} failed", "error": {"fingerprint": fingerprint}}


@pytest.fixture
def reader() -> FingerprintRecords:
    return FingerprintRecords([_record(i, FP if i % 2 else "bbbb") for i in range(10)])


@pytest.fixture
def client(reader: FingerprintRecords) -> Iterator[TestClient]:
    app = create_app(
        settings_for_tests(),
        store=MemoryRuleStore(),
        publisher=RecordingPublisher(),
        records=reader,
        error_groups=MemoryErrorGroups(),
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def get(client: TestClient, path: str, token: str | None = TOKENS["viewer"]) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(path, headers=headers)


def test_records_need_a_valid_token(client: TestClient, reader: FingerprintRecords) -> None:
    missing = get(client, f"/api/v1/errors/{FP}/records", token=None)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert get(client, f"/api/v1/errors/{FP}/records", token="not-a-token").status_code == 401
    assert reader.asked == []  # refused before Elasticsearch is asked


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_every_role_reads_a_groups_records(client: TestClient, role: str) -> None:
    response = get(client, f"/api/v1/errors/{FP}/records", token=TOKENS[role])
    assert response.status_code == 200, response.text


def test_only_the_groups_records_newest_first_up_to_size(
    client: TestClient, reader: FingerprintRecords
) -> None:
    body = get(client, f"/api/v1/errors/{FP}/records?size=3").json()
    assert body["fingerprint"] == FP and body["count"] == 3
    assert [r["_id"] for r in body["records"]] == ["logs:0:1", "logs:0:3", "logs:0:5"]
    where, size = reader.asked[-1]
    assert where == RecordFilter(fingerprint=FP) and size == 3


def test_a_group_without_records_is_an_empty_list_not_404(client: TestClient) -> None:
    body = get(client, "/api/v1/errors/cccc/records").json()
    assert body == {"fingerprint": "cccc", "count": 0, "records": []}


@pytest.mark.parametrize("query", ["?size=0", "?size=201", "?size=many"])
def test_bad_sizes_are_422(client: TestClient, query: str) -> None:
    assert get(client, f"/api/v1/errors/{FP}/records{query}").status_code == 422


def test_elasticsearch_down_is_503_with_retry_after(client: TestClient, reader: FingerprintRecords) -> None:
    reader.down = True
    response = get(client, f"/api/v1/errors/{FP}/records")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "unavailable" and "connection refused" in response.json()["detail"]


def test_the_filter_is_a_term_query_on_error_fingerprint() -> None:
    assert RecordFilter(fingerprint=FP).query() == {"bool": {"filter": [{"term": {"error.fingerprint": FP}}]}}
    # A rule may set a fingerprint with spaces or quotes: a term query takes it verbatim.
    odd = 'db "primary" down'
    assert RecordFilter(fingerprint=odd).query() == {
        "bool": {"filter": [{"term": {"error.fingerprint": odd}}]}
    }
