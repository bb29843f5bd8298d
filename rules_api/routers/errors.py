"""``/api/v1/errors``: the error groups the job keeps (docs/errors.md), readable by any viewer."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from common.schema.error_groups import ErrorGroup, iso, records_link, select
from rules_api.dependencies import Viewer
from rules_api.error_groups import ErrorGroupSource
from rules_api.models import ErrorBody

router = APIRouter(
    prefix="/api/v1",
    tags=["errors"],
    responses={code: {"model": ErrorBody} for code in (400, 401, 403, 404, 422, 503)},
)

_DURATION = re.compile(r"^([1-9][0-9]*)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Sample(BaseModel):
    message: str
    type: str
    dataset: str
    host: str
    service: str
    template: str


class RecordsLink(BaseModel):
    index: str = Field(description="the index pattern of the group's records")
    query: dict[str, Any] = Field(description="a _search body: a term query on error.fingerprint")
    search_url: str = Field(description="the same search as a ready GET")


class Group(BaseModel):
    fingerprint: str
    count: int
    first_seen: str
    last_seen: str
    sample: Sample
    records: RecordsLink


class GroupList(BaseModel):
    since: str
    order: str
    groups: list[Group]


def _source(request: Request) -> ErrorGroupSource:
    source: ErrorGroupSource = request.app.state.error_groups
    return source


def _view(group: ErrorGroup, source: ErrorGroupSource) -> Group:
    return Group(
        **group.to_json(),
        records=RecordsLink(**records_link(group.fingerprint, source.index_prefix, source.es_url)),
    )


@router.get("/errors", response_model=GroupList, summary="top error groups")
async def list_errors(
    request: Request,
    _: Viewer,
    since: Annotated[
        str,
        Query(max_length=12, pattern=_DURATION.pattern, description="seen in this span: 30m, 24h, 7d"),
    ] = "24h",
    new: Annotated[bool, Query(description="only groups first seen in that span")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    order: Annotated[
        str, Query(pattern="^(last_seen|count)$", description="last_seen or count")
    ] = "last_seen",
) -> GroupList:
    match = _DURATION.match(since)
    assert match is not None  # the Query pattern already checked it
    # A span longer than the epoch is all of it (and keeps the times printable).
    since_epoch = max(0.0, time.time() - int(match.group(1)) * _UNITS[match.group(2)])
    source = _source(request)
    groups = select(
        await source.recent(since_epoch), since_epoch=since_epoch, new_only=new, order=order, limit=limit
    )
    return GroupList(since=iso(since_epoch), order=order, groups=[_view(g, source) for g in groups])


@router.get("/errors/{fingerprint}", response_model=Group, summary="one error group")
async def get_error(
    request: Request,
    _: Viewer,
    fingerprint: Annotated[
        str, Path(min_length=1, max_length=256, description="the group's error.fingerprint")
    ],
) -> Group:
    source = _source(request)
    group = await source.get(fingerprint)
    if group is None:
        raise HTTPException(404, f"no error group {fingerprint!r} (never seen, or expired)")
    return _view(group, source)
