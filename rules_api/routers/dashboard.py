"""The ``/api/v1`` read endpoints behind the dashboards: who am I, window stats, records, alerts.

Every one needs a token (viewer or above); none changes anything.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from rules_api.dependencies import Viewer, get_context
from rules_api.errors import error_response
from rules_api.models import ErrorBody
from rules_api.overview import RANGES, REUSE_SECONDS, summarize
from rules_api.records_reader import RecordFilter, RecordsUnavailableError
from rules_api.security import Role
from rules_api.stats_reader import StatsUnavailableError

router = APIRouter(
    prefix="/api/v1",
    tags=["dashboards"],
    responses={code: {"model": ErrorBody} for code in (401, 422, 503)},
)

RangeName = Literal["15m", "1h", "24h", "7d"]
Filter = Annotated[str, Query(max_length=256)]


class WhoAmI(BaseModel):
    name: str
    role: str
    can_edit: bool
    can_admin: bool


@router.get("/whoami", response_model=WhoAmI, summary="the caller's name and role")
async def whoami(principal: Viewer) -> WhoAmI:
    return WhoAmI(
        name=principal.name,
        role=principal.role.name,
        can_edit=principal.role >= Role.editor,
        can_admin=principal.role >= Role.admin,
    )


@router.get("/stats/overview", summary="the job's window counters over a time range")
async def stats_overview(
    request: Request,
    _: Viewer,
    range_: Annotated[RangeName, Query(alias="range")] = "1h",
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Any:
    context = get_context(request)

    async def compute() -> dict[str, Any]:
        until = int(time.time())
        since = until - RANGES[range_]
        windows = await context.stats.windows(since, until)
        window_seconds = context.stats.window_seconds
        return summarize(windows, since=since, until=until, window_seconds=window_seconds, top=top)

    try:
        summary = await context.overview_cache.get((range_, top), REUSE_SECONDS[range_], compute)
    except StatsUnavailableError as exc:
        return _unavailable(exc)
    return {"range": range_, "stats_prefix": context.settings.stats_prefix, **summary}


@router.get("/records", summary="the newest indexed records, optionally filtered")
async def recent_records(
    request: Request,
    _: Viewer,
    dataset: Filter = "",
    host: Filter = "",
    level: Filter = "",
    q: Filter = "",
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    where = RecordFilter(dataset=dataset.strip(), host=host.strip(), level=level.strip(), text=q.strip())
    try:
        records = await get_context(request).records.records(where, size)
    except RecordsUnavailableError as exc:
        return _unavailable(exc)
    return {"count": len(records), "records": records}


@router.get("/alerts", summary="the newest alerts (the alert index)")
async def recent_alerts(request: Request, _: Viewer, size: Annotated[int, Query(ge=1, le=200)] = 20) -> Any:
    try:
        alerts = await get_context(request).records.alerts(size)
    except RecordsUnavailableError as exc:
        return _unavailable(exc)
    return {"count": len(alerts), "alerts": alerts}


def _unavailable(exc: Exception) -> JSONResponse:
    return error_response(503, "unavailable", str(exc), headers={"Retry-After": "5"})
