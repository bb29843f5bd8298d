"""Shared test fixtures and the local-stack gate for integration and end-to-end tests.

Tests marked ``integration`` or ``e2e`` need real services. Before such a test runs, the services it
needs are probed on the addresses in ``common.settings``; when one is not reachable the test is
SKIPPED with the reason, so ``pytest tests/unit``-style runs work without a stack. With
``LOGFLOW_REQUIRE_STACK=1`` (set by ``make test`` and CI) the same situation FAILS instead: a green CI
run must mean the integration tests really ran.

Which services a test needs: ``@pytest.mark.stack_services("kafka", "redis")`` names them exactly;
otherwise ``integration`` means kafka, elasticsearch, redis and flink (plus the rules API for tests
under a ``rules_api`` directory) and ``e2e`` means all of them.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from common.settings import (
    ElasticsearchSettings,
    KafkaSettings,
    RedisSettings,
    api_url,
    flink_rest_url,
    logflow_home,
)

ALL_SERVICES = ("kafka", "elasticsearch", "redis", "flink", "rules-api")
CORE_SERVICES = ("kafka", "elasticsearch", "redis", "flink")


def _host_port_of_url(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url.split(",")[0].strip())
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _host_port_of_bootstrap(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    return host or "127.0.0.1", int(port) if port.isdigit() else 9092


def service_addresses() -> dict[str, tuple[str, int]]:
    """Where each service is expected, from the same settings the code under test uses."""
    return {
        "kafka": _host_port_of_bootstrap(KafkaSettings.from_env().bootstrap_servers),
        "elasticsearch": _host_port_of_url(ElasticsearchSettings.from_env().url, 9200),
        "redis": _host_port_of_url(RedisSettings.from_env().url, 6379),
        "flink": _host_port_of_url(flink_rest_url(), 8081),
        "rules-api": _host_port_of_url(api_url(), 8000),
    }


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def stack_required() -> bool:
    return os.environ.get("LOGFLOW_REQUIRE_STACK", "").strip().lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stack_services(*names): the local-stack services an integration/e2e test needs "
        f"(from {', '.join(ALL_SERVICES)})",
    )


def _needed_services(item: pytest.Item) -> tuple[str, ...]:
    explicit = item.get_closest_marker("stack_services")
    if explicit is not None:
        unknown = [name for name in explicit.args if name not in ALL_SERVICES]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: unknown stack service(s) {unknown}; use {ALL_SERVICES}")
        return tuple(explicit.args)
    if item.get_closest_marker("e2e") is not None:
        return ALL_SERVICES
    if item.get_closest_marker("integration") is not None:
        if "rules_api" in Path(str(item.path)).parts:
            return (*CORE_SERVICES, "rules-api")
        return CORE_SERVICES
    return ()


# Probing costs a connect per service; remember the answers for the session.
_probe_cache: dict[str, bool] = {}


def _missing_services(names: tuple[str, ...]) -> list[str]:
    addresses = service_addresses()
    missing = []
    for name in names:
        if name not in _probe_cache:
            _probe_cache[name] = _reachable(*addresses[name])
        if not _probe_cache[name]:
            host, port = addresses[name]
            missing.append(f"{name} ({host}:{port})")
    return missing


def pytest_runtest_setup(item: pytest.Item) -> None:
    needed = _needed_services(item)
    if not needed:
        return
    missing = _missing_services(needed)
    if not missing:
        return
    reason = f"local stack not reachable: {', '.join(missing)}; start it with `logflow stack up`"
    if stack_required():
        pytest.fail(f"{reason} (LOGFLOW_REQUIRE_STACK=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def api_token() -> str:
    """A bearer token for the rules API: LOGFLOW_API_TOKEN, else the local stack's generated admin token."""
    token = os.environ.get("LOGFLOW_API_TOKEN", "").strip()
    if token:
        return token
    path = logflow_home() / "secrets" / "api-token"
    try:
        token = path.read_text().strip()
    except OSError:
        token = ""
    if not token:
        reason = f"no API token: set LOGFLOW_API_TOKEN or run `logflow stack up` (creates {path})"
        if stack_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return token


@pytest.fixture
def unique_name() -> str:
    """A suffix no other test (or parallel run) uses, e.g. ``t3f9c0a1b2d4e``: ``f"logs-{unique_name}"``.

    Lower-case letters and digits only, so it is valid in a Kafka topic, an Elasticsearch index and a
    Redis key.
    """
    return f"t{uuid.uuid4().hex[:12]}"
