"""The rules API against the real Redis and Kafka of the local stack."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from api_stack import Isolation, Server, ServerFactory, consume_topic, last_record, make_rule

pytestmark = pytest.mark.integration

API = "/api/v1"


def test_crud_etags_and_the_records_on_the_topic(
    server: Server, isolation: Isolation, unique: Callable[[str], str]
) -> None:
    rule_id = unique("crud")
    editor = isolation.auth("editor")
    with httpx.Client(base_url=server.url, timeout=15) as http:
        created = http.post(f"{API}/rules", json=make_rule(rule_id), headers=editor)
        assert created.status_code == 201, created.text
        assert created.headers["etag"] == '"1"'
        assert http.put(f"{API}/rules/{rule_id}", json=make_rule(rule_id), headers=editor).status_code == 428
        updated = http.put(
            f"{API}/rules/{rule_id}",
            json=make_rule(rule_id, priority=99),
            headers={**editor, "If-Match": '"1"'},
        )
        assert updated.status_code == 200 and updated.json()["version"] == 2
        stale = http.put(
            f"{API}/rules/{rule_id}",
            json=make_rule(rule_id, priority=1),
            headers={**editor, "If-Match": '"1"'},
        )
        assert stale.status_code == 412 and stale.json()["current_version"] == 2
        disabled = http.patch(f"{API}/rules/{rule_id}", json={"enabled": False}, headers=editor)
        assert disabled.json()["version"] == 3
        got = http.get(f"{API}/rules/{rule_id}", headers=isolation.auth("viewer"))
        assert got.headers["etag"] == '"3"' and got.json()["rule"]["enabled"] is False
        assert http.delete(f"{API}/rules/{rule_id}", headers=editor).json()["version"] == 4

    records = [(k, v) for k, v in consume_topic(isolation.topic) if k == rule_id]
    values: list[Any] = []
    for _, value in records:
        # The reconciler may republish what a request just published; duplicates are harmless
        # (the job ignores versions it already holds), so compare the distinct sequence.
        if not values or values[-1] != value:
            values.append(value)
    # 2xx meant "in Kafka": every version is there, in order, ending with the tombstone.
    assert [v["version"] for v in values[:-1]] == [1, 2, 3]
    assert values[-1] is None
    assert set(values[0]) == {"id", "version", "updated_at", "updated_by", "rule"}
    assert values[0]["updated_by"] == "editor-user"
    assert values[1]["rule"]["priority"] == 99
    assert values[2]["rule"]["enabled"] is False


def test_history_and_rollback_survive_in_redis(
    servers: ServerFactory, server: Server, isolation: Isolation, unique: Callable[[str], str]
) -> None:
    rule_id = unique("hist")
    editor = isolation.auth("editor")
    with httpx.Client(base_url=server.url, timeout=15) as http:
        http.post(f"{API}/rules", json=make_rule(rule_id), headers=editor).raise_for_status()
        http.put(
            f"{API}/rules/{rule_id}",
            json=make_rule(rule_id, priority=5),
            headers={**editor, "If-Match": '"1"'},
        ).raise_for_status()
        back = http.post(f"{API}/rules/{rule_id}/rollback", json={"version": 1}, headers=editor)
        assert back.status_code == 200 and back.json()["version"] == 3
    # A fresh replica (think: a restart) serves the same rule and the same audit trail from Redis.
    other = servers.start()
    with httpx.Client(base_url=other.url, timeout=15) as http:
        history = http.get(f"{API}/rules/{rule_id}/versions", headers=isolation.auth("viewer")).json()
        assert [v["action"] for v in history["versions"]] == ["create", "update", "rollback"]
        assert history["versions"][1]["diff"] == [
            {"op": "replace", "path": "$.priority", "old": 10, "value": 5}
        ]
        assert (
            http.get(f"{API}/rules/{rule_id}", headers=isolation.auth("viewer")).json()["rule"]["priority"]
            == 10
        )
    other.stop()
    assert last_record(consume_topic(isolation.topic), rule_id)["version"] == 3


def test_import_is_atomic(server: Server, isolation: Isolation, unique: Callable[[str], str]) -> None:
    good, bad = unique("imp-good"), unique("imp-bad")
    broken = make_rule(bad)
    broken["then"] = [{"action": "extract", "field": "message", "pattern": "(unclosed", "into": {"a": "b"}}]
    with httpx.Client(base_url=server.url, timeout=30, headers=isolation.auth("admin")) as http:
        refused = http.post(f"{API}/rules:import", json={"rules": [make_rule(good), broken], "mode": "merge"})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["path"].startswith("$.rules[1]")
        assert http.get(f"{API}/rules/{good}").status_code == 404
        accepted = http.post(f"{API}/rules:import", json={"rules": [make_rule(good)], "mode": "merge"})
        assert accepted.status_code == 200 and accepted.json()["created"] == [good]
        exported = http.get(f"{API}/rules:export").json()
        assert good in exported["versions"]


def test_two_replicas_racing_lose_no_update(
    servers: ServerFactory, server: Server, isolation: Isolation, unique: Callable[[str], str]
) -> None:
    rule_id = unique("race")
    second = servers.start()
    editor = isolation.auth("editor")
    httpx.post(
        f"{server.url}{API}/rules", json=make_rule(rule_id, description=""), headers=editor
    ).raise_for_status()
    successes: list[str] = []
    lock = threading.Lock()

    def writer(base_url: str, name: str, writes: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30, headers=editor) as http:
            done = 0
            while done < writes:
                current = http.get(f"{API}/rules/{rule_id}").json()
                marker = f"{name}.{done}"
                rule = make_rule(rule_id, description=f"{current['rule']['description']}|{marker}")
                response = http.put(
                    f"{API}/rules/{rule_id}", json=rule, headers={"If-Match": f'"{current["version"]}"'}
                )
                if response.status_code == 412:
                    continue  # a stale writer loses and retries on the newer version
                assert response.status_code == 200, response.text
                with lock:
                    successes.append(marker)
                done += 1

    threads = [
        threading.Thread(target=writer, args=(url, f"w{i}", 5))
        for i, url in enumerate([server.url, second.url] * 3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(successes) == 30
    views = [
        httpx.get(f"{url}{API}/rules/{rule_id}", headers=isolation.auth("viewer")).json()
        for url in (server.url, second.url)
    ]
    assert views[0] == views[1]
    final = views[0]
    assert final["version"] == 31
    # No lost update: every accepted write is in the final rule.
    assert sorted(final["rule"]["description"].strip("|").split("|")) == sorted(successes)
    history = httpx.get(
        f"{server.url}{API}/rules/{rule_id}/versions", headers=isolation.auth("viewer")
    ).json()
    assert [v["version"] for v in history["versions"]] == list(range(1, 32))
    # The compacted topic ends on the newest version, whichever replica published last.
    assert last_record(consume_topic(isolation.topic), rule_id)["version"] == 31
    second.stop()


def test_changes_made_while_kafka_is_down_are_published_later(
    servers: ServerFactory, isolation: Isolation, unique: Callable[[str], str]
) -> None:
    rule_id = unique("outbox")
    # A store of its own, so the session's healthy replica does not drain this outbox first.
    prefix = f"{isolation.redis_prefix}{rule_id}:"
    # A replica whose Kafka is unreachable (nothing listens on port 9): the store still commits.
    cut_off = servers.start(
        wait_ready=False,
        LOGFLOW_KAFKA_BOOTSTRAP="127.0.0.1:9",
        LOGFLOW_API_PUBLISH_TIMEOUT_S="1",
        LOGFLOW_API_REDIS_PREFIX=prefix,
    )
    response = httpx.post(
        f"{cut_off.url}{API}/rules", json=make_rule(rule_id), headers=isolation.auth("editor"), timeout=30
    )
    assert response.status_code == 503
    assert response.json()["error"] == "publish_pending"
    ready = httpx.get(f"{cut_off.url}/readyz", headers=isolation.auth("viewer"), timeout=30)
    assert ready.status_code == 503 and ready.json()["checks"]["kafka"].startswith("unavailable")
    cut_off.stop()
    assert all(k != rule_id for k, _ in consume_topic(isolation.topic))
    # Any replica with Kafka drains the outbox at startup.
    healthy = servers.start(LOGFLOW_API_REDIS_PREFIX=prefix)
    assert last_record(consume_topic(isolation.topic), rule_id)["version"] == 1
    healthy.stop()


def test_auth_and_body_limits(server: Server, isolation: Isolation) -> None:
    with httpx.Client(base_url=server.url, timeout=15) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get(f"{API}/rules").status_code == 401
        assert http.get(f"{API}/rules", headers={"Authorization": "Bearer wrong"}).status_code == 401
        viewer = isolation.auth("viewer")
        assert http.post(f"{API}/rules", json=make_rule("x"), headers=viewer).status_code == 403
        assert http.get(f"{API}/rules:export", headers=isolation.auth("editor")).status_code == 403
        big = http.post(
            f"{API}/rules", json=make_rule("x", description="y" * 300_000), headers=isolation.auth("editor")
        )
        assert big.status_code == 413 and big.json()["error"] == "body_too_large"
        malformed = http.post(
            f"{API}/rules",
            content=b"{not json",
            headers={**isolation.auth("editor"), "Content-Type": "application/json"},
        )
        assert malformed.status_code == 400
        metrics = http.get("/metrics", headers=viewer)
        assert metrics.status_code == 200 and "logflow_api_requests_total" in metrics.text


def test_server_refuses_to_start_without_tokens(isolation: Isolation) -> None:
    import subprocess

    from api_stack import LOGFLOW, REPO

    env = isolation.env()
    env.pop("LOGFLOW_API_TOKENS")
    result = subprocess.run(
        [LOGFLOW, "api", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert "no API tokens configured" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
