"""Prometheus scrape endpoint. It needs a viewer token like everything but /healthz: rule counts
and publish failures are operational detail, and Prometheus sends bearer tokens natively."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rules_api.dependencies import Viewer, get_context

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
async def metrics(request: Request, _: Viewer) -> Response:
    context = get_context(request)
    try:
        context.metrics.rules.set(len(await context.store.list_rules()))
        context.metrics.unpublished.set(len(await context.broadcaster.lagging()))
    except Exception:
        # A scrape must still answer when Redis is down; the gauges keep their last values.
        pass
    return Response(generate_latest(context.metrics.registry), media_type=CONTENT_TYPE_LATEST)
