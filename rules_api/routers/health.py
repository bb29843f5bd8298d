"""Liveness, readiness and the protected OpenAPI description."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from rules_api.dependencies import Viewer, get_context
from rules_api.models import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="liveness: touches no dependency, needs no token")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
    summary="Kafka and Redis reachable, rules loaded",
)
async def readyz(request: Request, _: Viewer) -> JSONResponse:
    context = get_context(request)
    checks: dict[str, str] = {}
    rules: int | None = None
    unpublished: int | None = None
    try:
        await context.store.ping()
        rules = len(await context.store.list_rules())
        unpublished = len(await context.broadcaster.lagging())
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"unavailable: {exc}"
    try:
        await context.publisher.check()
        checks["kafka"] = "ok"
    except Exception as exc:
        checks["kafka"] = f"unavailable: {exc}"
    checks["rules"] = "loaded" if context.rules_loaded else "not loaded yet"
    ready = checks["store"] == "ok" and checks["kafka"] == "ok" and context.rules_loaded
    body = Readiness(ready=ready, checks=checks, rules=rules, unpublished=unpublished)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request, _: Viewer) -> dict[str, Any]:
    return request.app.openapi()
