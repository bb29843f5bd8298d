"""The app factory: wires settings, store, publisher, security and routers into one FastAPI app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from common.errors.settings import ErrorGroupSettings
from common.schema.stats import StatsKeys
from rules_api import errors, openapi
from rules_api.auth_first import AuthFirstMiddleware
from rules_api.broadcast import Broadcaster
from rules_api.dependencies import AppContext
from rules_api.error_groups import ErrorGroupSource, RedisErrorGroups
from rules_api.limits import BodyLimitMiddleware, JsonBodyMiddleware
from rules_api.metrics import ApiMetrics, MetricsMiddleware
from rules_api.publisher import KafkaPublisher, Publisher
from rules_api.records_reader import ElasticsearchRecordsReader, RecordsReader
from rules_api.routers import dashboard, docs, health, metrics, rules, ui
from rules_api.routers import errors as error_groups_router
from rules_api.rules_core import DryRunner
from rules_api.security import TokenRegistry
from rules_api.service import RulesService
from rules_api.settings import ApiSettings
from rules_api.stats_reader import RedisStatsReader, StatsReader
from rules_api.store.base import RuleStore

log = logging.getLogger(__name__)

# Every router of the app, in the order they are included; the token check before the body
# (rules_api.auth_first) matches requests against these same routes.
ROUTERS = (
    rules.router,
    health.router,
    metrics.router,
    docs.router,
    dashboard.router,
    ui.router,
    error_groups_router.router,
)


async def _housekeeping(context: AppContext) -> None:
    """At startup and then periodically: create the topic if missing, drain the outbox (republish
    whatever the store holds that Kafka has not confirmed), and note that the rules are loaded."""
    while True:
        try:
            if not context.topic_ready:
                await context.publisher.ensure_topic()
                context.topic_ready = True
            count = len(await context.store.list_rules())
            await context.broadcaster.reconcile()
            context.metrics.rules.set(count)
            context.metrics.unpublished.set(0)
            context.rules_loaded = True
            context.last_error.pop("housekeeping", None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if context.last_error.get("housekeeping") != str(exc):
                log.warning("rules API housekeeping failed (will retry): %s", exc)
            context.last_error["housekeeping"] = str(exc)
        await asyncio.sleep(context.settings.reconcile_interval_s)


def create_app(
    settings: ApiSettings | None = None,
    *,
    store: RuleStore | None = None,
    publisher: Publisher | None = None,
    error_groups: ErrorGroupSource | None = None,
    stats: StatsReader | None = None,
    records: RecordsReader | None = None,
) -> FastAPI:
    """Build the app. Raises TokenConfigError when no usable token is configured."""
    settings = settings or ApiSettings.from_env()
    tokens = TokenRegistry(settings.token_entries)
    if store is None:
        from rules_api.store.redis_store import RedisRuleStore

        store = RedisRuleStore(settings.redis, prefix=settings.redis_prefix)
    if publisher is None:
        publisher = KafkaPublisher(settings.kafka, settings.topics.rules, settings.publish_timeout_s)
    if stats is None:
        stats = RedisStatsReader(settings.redis, StatsKeys(settings.stats_prefix, settings.window_seconds))
    if records is None:
        records = ElasticsearchRecordsReader(settings.elasticsearch, settings.index_prefix)
    api_metrics = ApiMetrics()
    broadcaster = Broadcaster(
        store,
        publisher,
        lock_ttl_s=2 * settings.publish_timeout_s + 5,
        on_failure=api_metrics.publish_failures.inc,
    )
    context = AppContext(
        settings=settings,
        tokens=tokens,
        store=store,
        publisher=publisher,
        broadcaster=broadcaster,
        service=RulesService(store, broadcaster, settings.max_rules),
        metrics=api_metrics,
        dry_runner=DryRunner(),
        stats=stats,
        records=records,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_housekeeping(context), name="rules-api-housekeeping")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            context.dry_runner.close()
            await context.publisher.close()
            await context.store.close()
            await context.stats.close()
            await context.records.close()
            await app.state.error_groups.close()

    app = FastAPI(
        title="logflow rules API",
        version="1",
        description="Edit logflow rules: versioned, validated, authenticated, broadcast to the job.",
        lifespan=lifespan,
        # /openapi.json is served by a route that needs a token; /docs by routers/docs.py from
        # this server's own files (FastAPI's built-in pages load Swagger UI from a CDN).
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    errors.install(app)
    openapi.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.state.error_groups = error_groups or RedisErrorGroups(
        settings.redis,
        ErrorGroupSettings(
            stats_prefix=settings.stats_prefix,
            window_seconds=settings.window_seconds,
            index_prefix=settings.index_prefix,
        ),
        settings.elasticsearch.url,
    )
    # Outermost last: metrics see every answer; the token is checked before the media type and
    # size checks, before the size limit reads a chunked body and before FastAPI parses one.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(JsonBodyMiddleware)
    app.add_middleware(AuthFirstMiddleware, routers=ROUTERS)
    app.add_middleware(MetricsMiddleware, metrics=api_metrics)
    return app
