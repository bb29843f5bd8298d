"""The HTTP behaviour, against the in-memory store and a recording publisher."""

from __future__ import annotations

import json
from collections.abc import Iterator

from api_harness import Harness, make_rule

API = "/api/v1"


def vw(h: Harness) -> dict[str, str]:
    return h.as_("viewer")


def ed(h: Harness) -> dict[str, str]:
    return h.as_("editor")


def ad(h: Harness) -> dict[str, str]:
    return h.as_("admin")


def create(h: Harness, rule_id: str, **changes: object) -> dict:
    response = h.client.post(f"{API}/rules", json=make_rule(rule_id, **changes), headers=h.as_("editor"))
    assert response.status_code == 201, response.text
    return response.json()


# --- CRUD and versions ---------------------------------------------------------------------------


def test_create_get_and_publish(harness: Harness) -> None:
    created = create(harness, "r1")
    assert created["version"] == 1
    assert created["updated_by"] == "editor-user"
    assert created["rule"]["id"] == "r1"
    got = harness.client.get(f"{API}/rules/r1", headers=vw(harness))
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json() == created
    # The record on the topic is the contract's wire value, keyed by the rule id.
    assert harness.publisher.last("r1") == created
    assert set(created) == {"id", "version", "updated_at", "updated_by", "rule"}
    assert created["updated_at"].endswith("Z")


def test_enabled_defaults_to_true_on_the_wire(harness: Harness) -> None:
    rule = make_rule("r1")
    del rule["enabled"]
    response = harness.client.post(f"{API}/rules", json=rule, headers=ed(harness))
    assert response.status_code == 201
    assert harness.publisher.last("r1")["rule"]["enabled"] is True


def test_create_twice_is_a_conflict(harness: Harness) -> None:
    create(harness, "r1")
    again = harness.client.post(f"{API}/rules", json=make_rule("r1"), headers=ed(harness))
    assert again.status_code == 409
    assert again.json()["error"] == "already_exists"


def test_put_needs_if_match_and_rejects_stale_versions(harness: Harness) -> None:
    create(harness, "r1")
    url = f"{API}/rules/r1"
    body = make_rule("r1", priority=50)
    missing = harness.client.put(url, json=body, headers=ed(harness))
    assert missing.status_code == 428
    assert missing.json()["error"] == "precondition_required"
    ok = harness.client.put(url, json=body, headers={**ed(harness), "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2
    assert ok.headers["etag"] == '"2"'
    stale = harness.client.put(
        url, json=make_rule("r1", priority=60), headers={**ed(harness), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert harness.client.get(url, headers=vw(harness)).json()["rule"]["priority"] == 50


def test_put_with_an_identical_rule_mints_no_version(harness: Harness) -> None:
    create(harness, "r1")
    same = harness.client.put(
        f"{API}/rules/r1", json=make_rule("r1"), headers={**ed(harness), "If-Match": "*"}
    )
    assert same.status_code == 200
    assert same.json()["version"] == 1


def test_put_body_id_must_match_the_url(harness: Harness) -> None:
    create(harness, "r1")
    response = harness.client.put(
        f"{API}/rules/r1", json=make_rule("other"), headers={**ed(harness), "If-Match": '"1"'}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$.id"


def test_put_unknown_rule_is_404(harness: Harness) -> None:
    response = harness.client.put(
        f"{API}/rules/nope", json=make_rule("nope"), headers={**ed(harness), "If-Match": '"1"'}
    )
    assert response.status_code == 404


def test_patch_enables_and_disables(harness: Harness) -> None:
    create(harness, "r1")
    off = harness.client.patch(f"{API}/rules/r1", json={"enabled": False}, headers=ed(harness))
    assert off.status_code == 200
    assert off.json()["version"] == 2 and off.json()["rule"]["enabled"] is False
    assert harness.publisher.last("r1")["rule"]["enabled"] is False
    bad = harness.client.patch(f"{API}/rules/r1", json={"enabled": "no"}, headers=ed(harness))
    assert bad.status_code == 422
    extra = harness.client.patch(
        f"{API}/rules/r1", json={"enabled": True, "priority": 1}, headers=ed(harness)
    )
    assert extra.status_code == 422
    assert "priority" in extra.json()["detail"]


def test_delete_publishes_a_tombstone_and_versions_keep_rising(harness: Harness) -> None:
    create(harness, "r1")
    deleted = harness.client.delete(f"{API}/rules/r1", headers=ed(harness))
    assert deleted.status_code == 200
    assert deleted.json() == {"id": "r1", "version": 2, "deleted": True}
    assert harness.publisher.records[-1] == ("r1", None)
    assert harness.client.get(f"{API}/rules/r1", headers=vw(harness)).status_code == 404
    assert harness.client.delete(f"{API}/rules/r1", headers=ed(harness)).status_code == 404
    # Re-created, it continues after the tombstone, so the job never sees an old version number.
    assert create(harness, "r1")["version"] == 3


def test_delete_with_a_stale_if_match_is_refused(harness: Harness) -> None:
    create(harness, "r1")
    response = harness.client.delete(f"{API}/rules/r1", headers={**ed(harness), "If-Match": '"7"'})
    assert response.status_code == 412


def test_list_filters(harness: Harness) -> None:
    create(harness, "a")
    create(harness, "b", enabled=False)
    routed = make_rule("c")
    routed["then"] = [{"action": "route", "dataset": "security"}]
    assert harness.client.post(f"{API}/rules", json=routed, headers=ed(harness)).status_code == 201

    def ids(query: str) -> list[str]:
        response = harness.client.get(f"{API}/rules{query}", headers=vw(harness))
        assert response.status_code == 200
        return [r["id"] for r in response.json()["rules"]]

    assert ids("") == ["a", "b", "c"]
    assert ids("?enabled=true") == ["a", "c"]
    assert ids("?enabled=false") == ["b"]
    assert ids("?tag=ssh-invalid-user") == ["a", "b"]
    assert ids("?dataset=security") == ["c"]
    assert ids("?tag=nothing") == []


# --- history and rollback ------------------------------------------------------------------------


def test_history_records_who_when_and_the_diff(harness: Harness) -> None:
    create(harness, "r1")
    harness.client.put(
        f"{API}/rules/r1",
        json=make_rule("r1", priority=5),
        headers={**ad(harness), "If-Match": '"1"'},
    )
    harness.client.delete(f"{API}/rules/r1", headers=ed(harness))
    history = harness.client.get(f"{API}/rules/r1/versions", headers=vw(harness)).json()
    versions = history["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["action"] for v in versions] == ["create", "update", "delete"]
    assert [v["updated_by"] for v in versions] == ["editor-user", "admin-user", "editor-user"]
    assert versions[1]["diff"] == [{"op": "replace", "path": "$.priority", "old": 10, "value": 5}]
    assert versions[2]["rule"] is None


def test_rollback_makes_an_old_version_current_as_a_new_version(harness: Harness) -> None:
    create(harness, "r1")
    harness.client.put(
        f"{API}/rules/r1",
        json=make_rule("r1", priority=5),
        headers={**ed(harness), "If-Match": '"1"'},
    )
    back = harness.client.post(f"{API}/rules/r1/rollback", json={"version": 1}, headers=ed(harness))
    assert back.status_code == 200, back.text
    assert back.json()["version"] == 3
    assert back.json()["rule"]["priority"] == 10
    last = harness.client.get(f"{API}/rules/r1/versions", headers=vw(harness)).json()["versions"][-1]
    assert last["action"] == "rollback" and last["rolled_back_from"] == 1
    assert harness.publisher.last("r1")["version"] == 3


def test_rollback_restores_a_deleted_rule_and_rejects_bad_targets(harness: Harness) -> None:
    create(harness, "r1")
    harness.client.delete(f"{API}/rules/r1", headers=ed(harness))
    to_delete = harness.client.post(f"{API}/rules/r1/rollback", json={"version": 2}, headers=ed(harness))
    assert to_delete.status_code == 422
    missing = harness.client.post(f"{API}/rules/r1/rollback", json={"version": 9}, headers=ed(harness))
    assert missing.status_code == 404
    restored = harness.client.post(f"{API}/rules/r1/rollback", json={"version": 1}, headers=ed(harness))
    assert restored.status_code == 200
    assert restored.json()["version"] == 3
    assert harness.client.get(f"{API}/rules/r1", headers=vw(harness)).status_code == 200


# --- validation, dry run, import/export ----------------------------------------------------------


def test_invalid_rules_get_422_naming_the_path(harness: Harness) -> None:
    rule = make_rule("r1")
    rule["then"][0]["pattern"] = "(unclosed"
    rule["surprise"] = 1
    response = harness.client.post(f"{API}/rules", json=rule, headers=ed(harness))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_failed"
    paths = {e["path"] for e in body["errors"]}
    assert "$.then[0].pattern" in paths
    assert any(
        p.startswith("$.surprise") or "surprise" in e["message"]
        for p, e in ((e["path"], e) for e in body["errors"])
    )
    assert harness.publisher.records == []


def test_a_condition_durable_rules_cannot_load_is_refused_before_it_is_stored(harness: Harness) -> None:
    # 16 and/or groups: the job's engine would refuse the rule set, so the API must not accept it.
    rule = make_rule("r1")
    rule["when"] = {
        "all": [
            {
                "any": [
                    {"field": "labels.a", "op": "eq", "value": str(i)},
                    {"field": "labels.b", "op": "exists"},
                ]
            }
            for i in range(15)
        ]
    }
    response = harness.client.post(f"{API}/rules", json=rule, headers=ed(harness))
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["$.when"]
    assert harness.publisher.records == []
    assert harness.client.get(f"{API}/rules/r1", headers=vw(harness)).status_code == 404


def test_validate_endpoint_uses_the_core_and_stores_nothing(harness: Harness) -> None:
    good = harness.client.post(f"{API}/rules:validate", json=make_rule("r1"), headers=ed(harness))
    assert good.json() == {"valid": True, "errors": []}
    bad_rule = make_rule("r1")
    bad_rule["when"] = {"field": "message", "op": "sounds-like", "value": "x"}
    bad = harness.client.post(f"{API}/rules:validate", json=bad_rule, headers=ed(harness))
    assert bad.status_code == 200
    assert bad.json()["valid"] is False
    assert bad.json()["errors"][0]["path"].startswith("$.when")
    assert harness.client.get(f"{API}/rules", headers=vw(harness)).json()["count"] == 0


def test_import_is_all_or_nothing(harness: Harness) -> None:
    create(harness, "keep")
    broken = make_rule("b")
    broken["then"] = [{"action": "explode"}]
    response = harness.client.post(
        f"{API}/rules:import", json={"rules": [make_rule("a"), broken]}, headers=ad(harness)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"].startswith("$.rules[1]")
    ids = [r["id"] for r in harness.client.get(f"{API}/rules", headers=vw(harness)).json()["rules"]]
    assert ids == ["keep"]


def test_import_replace_and_merge(harness: Harness) -> None:
    create(harness, "old")
    create(harness, "same")
    response = harness.client.post(
        f"{API}/rules:import",
        json={"rules": [make_rule("same"), make_rule("new")], "mode": "replace"},
        headers=ad(harness),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "created": ["new"],
        "updated": [],
        "unchanged": ["same"],
        "deleted": ["old"],
        "versions": {"new": 1, "old": 2, "same": 1},
    }
    assert ("old", None) in harness.publisher.records
    merged = harness.client.post(
        f"{API}/rules:import",
        json={"rules": [make_rule("extra")], "mode": "merge"},
        headers=ad(harness),
    )
    assert merged.json()["created"] == ["extra"]
    exported = harness.client.get(f"{API}/rules:export", headers=ad(harness)).json()
    assert sorted(r["id"] for r in exported["rules"]) == ["extra", "new", "same"]
    assert exported["versions"] == {"extra": 1, "new": 1, "same": 1}


def test_import_respects_the_rule_limit_atomically(harness: Harness) -> None:
    rules = [make_rule(f"r{i}") for i in range(6)]  # the harness allows 5
    response = harness.client.post(f"{API}/rules:import", json={"rules": rules}, headers=ad(harness))
    assert response.status_code == 409
    assert response.json()["error"] == "rule_limit"
    assert harness.client.get(f"{API}/rules", headers=vw(harness)).json()["count"] == 0


def test_create_respects_the_rule_limit(harness: Harness) -> None:
    for i in range(5):
        create(harness, f"r{i}")
    response = harness.client.post(f"{API}/rules", json=make_rule("r5"), headers=ed(harness))
    assert response.status_code == 409


# --- security ------------------------------------------------------------------------------------


def test_401_without_or_with_a_wrong_token(harness: Harness) -> None:
    none = harness.client.get(f"{API}/rules")
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == "Bearer"
    wrong = harness.client.get(f"{API}/rules", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    basic = harness.client.get(f"{API}/rules", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


def test_403_when_the_role_is_too_low(harness: Harness) -> None:
    viewer = vw(harness)
    editor = ed(harness)
    assert harness.client.post(f"{API}/rules", json=make_rule("r1"), headers=viewer).status_code == 403
    assert (
        harness.client.post(f"{API}/rules:validate", json=make_rule("r1"), headers=viewer).status_code == 403
    )
    assert harness.client.get(f"{API}/rules:export", headers=editor).status_code == 403
    assert harness.client.post(f"{API}/rules:import", json={"rules": []}, headers=editor).status_code == 403
    forbidden = harness.client.delete(f"{API}/rules/r1", headers=viewer)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "forbidden"


def test_only_healthz_is_open(harness: Harness) -> None:
    assert harness.client.get("/healthz").json() == {"status": "ok"}
    for path in ("/readyz", "/metrics", "/openapi.json", f"{API}/rules"):
        assert harness.client.get(path).status_code == 401, path


# --- bad input -----------------------------------------------------------------------------------


def test_malformed_json_is_400(harness: Harness) -> None:
    response = harness.client.post(
        f"{API}/rules",
        content=b'{"id": "r1",',
        headers={**ed(harness), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_wrong_body_types_are_422(harness: Harness) -> None:
    for body in ([1, 2], "rule", 3, None):
        response = harness.client.post(f"{API}/rules", json=body, headers=ed(harness))
        assert response.status_code in {400, 422}, (body, response.text)
        assert response.json()["error"]


def test_huge_bodies_are_413(harness: Harness) -> None:
    rule = make_rule("r1", description="x" * 300_000)
    response = harness.client.post(f"{API}/rules", json=rule, headers=ed(harness))
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming too
        for _ in range(40):
            yield b" " * 10_000

    streamed = harness.client.post(
        f"{API}/rules",
        content=chunks(),
        headers={**ed(harness), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413


def test_unknown_routes_and_methods_answer_json(harness: Harness) -> None:
    missing = harness.client.get("/nope", headers=vw(harness))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    method = harness.client.put(f"{API}/rules", headers=ed(harness))
    assert method.status_code == 405 and method.json()["error"] == "method_not_allowed"


def test_bad_query_values_are_422(harness: Harness) -> None:
    response = harness.client.get(f"{API}/rules?enabled=maybe", headers=vw(harness))
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "query:enabled"


# --- Kafka and store outages ---------------------------------------------------------------------


def test_kafka_down_answers_503_and_the_reconciler_publishes_later(harness: Harness) -> None:
    harness.publisher.down = True
    response = harness.client.post(f"{API}/rules", json=make_rule("r1"), headers=ed(harness))
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "publish_pending" and body["versions"] == {"r1": 1}
    # The change is stored, not lost.
    assert harness.client.get(f"{API}/rules/r1", headers=vw(harness)).status_code == 200
    ready = harness.client.get("/readyz", headers=vw(harness))
    assert ready.status_code == 503 and ready.json()["unpublished"] == 1
    harness.publisher.down = False
    context = harness.client.app.state.context
    assert harness.client.portal.call(context.broadcaster.reconcile) == 1
    assert harness.publisher.last("r1")["version"] == 1
    assert harness.client.portal.call(context.broadcaster.lagging) == []


def test_store_down_is_503_with_a_reason(harness: Harness) -> None:
    harness.store.available = False
    response = harness.client.get(f"{API}/rules", headers=vw(harness))
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"


def test_readyz_and_metrics(harness: Harness) -> None:
    create(harness, "r1")
    ready = harness.client.get("/readyz", headers=vw(harness))
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"store": "ok", "kafka": "ok", "rules": "loaded"}
    metrics = harness.client.get("/metrics", headers=vw(harness)).text
    assert 'logflow_api_requests_total{method="POST",route="/api/v1/rules",status="201"} 1.0' in metrics
    assert "logflow_api_rules 1.0" in metrics
    assert "logflow_api_publish_failures_total 0.0" in metrics


def test_openapi_describes_the_rule_with_the_core_schema(harness: Harness) -> None:
    document = harness.client.get("/openapi.json", headers=vw(harness)).json()
    assert "/api/v1/rules/{rule_id}/versions" in document["paths"]
    rule = document["components"]["schemas"]["Rule"]
    assert rule["required"] == ["id", "when", "then"]
    assert "$defs" not in json.dumps(document)


def test_if_match_that_names_no_version_never_matches(harness: Harness) -> None:
    create(harness, "r1")
    for tag in ('"abc"', 'W/"2"', ""):
        response = harness.client.put(
            f"{API}/rules/r1", json=make_rule("r1", priority=3), headers={**ed(harness), "If-Match": tag}
        )
        assert response.status_code == 412, tag
    weak = harness.client.put(
        f"{API}/rules/r1", json=make_rule("r1", priority=3), headers={**ed(harness), "If-Match": 'W/"1"'}
    )
    assert weak.status_code == 200


def test_idempotent_put_does_not_republish(harness: Harness) -> None:
    create(harness, "r1")
    before = len(harness.publisher.records)
    harness.client.put(f"{API}/rules/r1", json=make_rule("r1"), headers={**ed(harness), "If-Match": '"1"'})
    assert len(harness.publisher.records) == before
