"""The token is checked before the body: 401 (no or wrong token), then 403 (role), only then 400/413/415/422.

Every write endpoint of the app is found from its routes, so a new one is covered without editing
this file; each gets a malformed body, an oversized body and a wrong content type.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from api_harness import TOKENS, Harness, RecordingPublisher, make_rule, settings_for_tests
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from rules_api.auth_first import required_role
from rules_api.main import ROUTERS, create_app
from rules_api.security import Role
from rules_api.store.memory import MemoryRuleStore

LIMIT = 4096
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _write_endpoints() -> list[tuple[str, str, Role]]:
    found = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in sorted((route.methods or set()) & WRITES):
                role = required_role(route)
                assert role is not None, f"{method} {route.path} needs no token"
                found.append((method, route.path.replace("{rule_id}", "r1"), role))
    return found


ENDPOINTS = _write_endpoints()
WITH_BODY = [e for e in ENDPOINTS if e[0] != "DELETE"]

BODIES: dict[str, tuple[bytes, str]] = {
    "malformed": (b'{"id": "r1", "when": ', "application/json"),
    "oversized": (b'{"description": "' + b"x" * (2 * LIMIT) + b'"}', "application/json"),
    "wrong content type": (b'{"enabled": false}', "text/plain"),
}
CALLERS: dict[str, dict[str, str]] = {
    "no token": {},
    "wrong token": {"Authorization": "Bearer not-a-configured-token"},
    "not bearer": {"Authorization": f"Basic {TOKENS['editor']}"},
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(
        settings_for_tests(max_body_bytes=LIMIT), store=MemoryRuleStore(), publisher=RecordingPublisher()
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _send(client: TestClient, method: str, path: str, body: str, headers: dict[str, str]) -> Any:
    content, media_type = BODIES[body]
    return client.request(method, path, content=content, headers={**headers, "Content-Type": media_type})


def test_every_write_endpoint_is_found() -> None:
    assert {(m, p) for m, p, _ in ENDPOINTS} == {
        ("POST", "/api/v1/rules"),
        ("PUT", "/api/v1/rules/r1"),
        ("PATCH", "/api/v1/rules/r1"),
        ("DELETE", "/api/v1/rules/r1"),
        ("POST", "/api/v1/rules:validate"),
        ("POST", "/api/v1/rules:test"),
        ("POST", "/api/v1/rules:import"),
        ("POST", "/api/v1/rules/r1/rollback"),
    }


@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize("body", sorted(BODIES))
@pytest.mark.parametrize(("method", "path", "role"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_no_usable_token_is_401_whatever_the_body(
    client: TestClient, method: str, path: str, role: Role, body: str, caller: str
) -> None:
    response = _send(client, method, path, body, CALLERS[caller])
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("body", sorted(BODIES))
@pytest.mark.parametrize(("method", "path", "role"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_a_role_below_the_endpoints_is_403_whatever_the_body(
    client: TestClient, method: str, path: str, role: Role, body: str
) -> None:
    below = [name for name in ("viewer", "editor") if Role[name] < role]
    assert "viewer" in below
    for name in below:
        response = _send(client, method, path, body, {"Authorization": f"Bearer {TOKENS[name]}"})
        assert response.status_code == 403, (name, response.text)
        assert response.json()["error"] == "forbidden"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("malformed", 400, "malformed_json"),
        ("oversized", 413, "body_too_large"),
        ("wrong content type", 415, "unsupported_media_type"),
    ],
)
@pytest.mark.parametrize(("method", "path", "role"), WITH_BODY, ids=[f"{m} {p}" for m, p, _ in WITH_BODY])
def test_only_an_allowed_caller_hears_about_the_body(
    client: TestClient, method: str, path: str, role: Role, body: str, status: int, error: str
) -> None:
    response = _send(client, method, path, body, {"Authorization": f"Bearer {TOKENS[role.name]}"})
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


def test_a_valid_body_without_a_token_is_still_401_and_stores_nothing(client: TestClient) -> None:
    response = client.post("/api/v1/rules", json=make_rule("r-anon"))
    assert response.status_code == 401
    listed = client.get("/api/v1/rules", headers={"Authorization": f"Bearer {TOKENS['viewer']}"}).json()
    assert "r-anon" not in [rule["id"] for rule in listed["rules"]]


def test_the_body_is_not_read_before_the_token_is_checked() -> None:
    """At the ASGI level: an anonymous chunked upload gets 401 without one receive() call, so the
    server neither parses nor buffers what a stranger sends."""
    app = create_app(settings_for_tests(), store=MemoryRuleStore(), publisher=RecordingPublisher())
    received: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        received.append({})
        return {"type": "http.request", "body": b"{" * 100, "more_body": True}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/rules",
        "raw_path": b"/api/v1/rules",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 401
    assert received == []


def test_open_routes_need_no_token(harness: Harness) -> None:
    assert harness.client.get("/healthz").status_code == 200
    # Wrong routes and methods still answer 404/405 (nothing to protect, no body read).
    assert harness.client.post("/api/v1/nope", content=b"{").status_code == 404
