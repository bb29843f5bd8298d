"""Prometheus metrics of one app instance (its own registry, so several apps can share a process)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "logflow_api_requests_total",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "logflow_api_request_duration_seconds",
            "HTTP request latency by route template and method",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.rules = Gauge("logflow_api_rules", "Rules currently stored", registry=self.registry)
        self.unpublished = Gauge(
            "logflow_api_unpublished_rules",
            "Rules whose latest version Kafka has not confirmed yet",
            registry=self.registry,
        )
        self.publish_failures = Counter(
            "logflow_api_publish_failures_total",
            "Rule publications Kafka did not confirm",
            registry=self.registry,
        )


class MetricsMiddleware:
    """Counts and times every request under its route template (``/api/v1/rules/{rule_id}``), so
    rule ids never become label values."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)
