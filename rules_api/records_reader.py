"""Reads recent records and alerts from Elasticsearch for the dashboards (search only).

A thin client over the `_search` REST endpoint with httpx (already a dependency) rather than the
`elasticsearch` package's async client, which would add aiohttp for a handful of read queries.
Connection settings are the shared ``LOGFLOW_ES_*`` ones (common/settings.py).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from common.schema.alert import alerts_indices, records_indices
from common.settings import ElasticsearchSettings


class RecordsUnavailableError(RuntimeError):
    """Elasticsearch could not be read (the route answers 503 with this text)."""


@dataclass(frozen=True)
class RecordFilter:
    dataset: str = ""
    host: str = ""
    level: str = ""
    text: str = ""
    fingerprint: str = ""  # error.fingerprint: an error group's records (docs/errors.md)

    def query(self) -> dict[str, Any]:
        clauses: list[dict[str, Any]] = []
        for field, value in (
            ("event.dataset", self.dataset),
            ("host.name", self.host),
            ("log.level", self.level),
            ("error.fingerprint", self.fingerprint),
        ):
            if value:
                clauses.append({"term": {field: value}})
        if self.text:
            clauses.append(
                {
                    "simple_query_string": {
                        "query": self.text,
                        "fields": ["message"],
                        "default_operator": "and",
                    }
                }
            )
        return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


# Newest first by the time the job indexed it, then by the record's own time: "newest records"
# means newest to arrive, whatever timestamp the line carried.
_NEWEST = [
    {"event.ingested": {"order": "desc", "unmapped_type": "date"}},
    {"@timestamp": {"order": "desc", "unmapped_type": "date"}},
]


class RecordsReader(Protocol):
    async def records(self, where: RecordFilter, size: int) -> list[dict[str, Any]]: ...

    async def alerts(self, size: int) -> list[dict[str, Any]]: ...

    async def close(self) -> None: ...


class ElasticsearchRecordsReader:
    def __init__(self, settings: ElasticsearchSettings, index_prefix: str, timeout_s: float = 10.0) -> None:
        self._prefix = index_prefix
        hosts = [u.strip().rstrip("/") for u in settings.url.split(",") if u.strip()]
        self._base = hosts[0] if hosts else "http://127.0.0.1:9200"
        headers: dict[str, str] = {"Content-Type": "application/json"}
        if settings.api_key:
            headers["Authorization"] = f"ApiKey {settings.api_key}"
        elif settings.username:
            raw = f"{settings.username}:{settings.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        verify: bool | str = settings.ca_certs or settings.verify_certs
        self._http = httpx.AsyncClient(headers=headers, timeout=timeout_s, verify=verify)

    @property
    def records_index(self) -> str:
        return records_indices(self._prefix)

    @property
    def alerts_index(self) -> str:
        return alerts_indices(self._prefix)

    async def _search(self, index: str, query: dict[str, Any], size: int) -> list[dict[str, Any]]:
        body = {"query": query, "size": size, "sort": _NEWEST, "track_total_hits": False}
        try:
            response = await self._http.post(
                f"{self._base}/{index}/_search",
                params={"ignore_unavailable": "true", "allow_no_indices": "true"},
                json=body,
            )
        except httpx.HTTPError as exc:
            raise RecordsUnavailableError(f"Elasticsearch: {exc}") from exc
        if response.status_code != 200:
            raise RecordsUnavailableError(
                f"Elasticsearch answered {response.status_code}: {response.text[:300]}"
            )
        hits = response.json().get("hits", {}).get("hits", [])
        return [
            {"_id": hit.get("_id"), "_index": hit.get("_index"), **hit.get("_source", {})} for hit in hits
        ]

    async def records(self, where: RecordFilter, size: int) -> list[dict[str, Any]]:
        return await self._search(self.records_index, where.query(), size)

    async def alerts(self, size: int) -> list[dict[str, Any]]:
        return await self._search(self.alerts_index, {"match_all": {}}, size)

    async def close(self) -> None:
        await self._http.aclose()
