"""POST /rules:test runs the rules core's dry run (in a worker process) on sample lines."""

from __future__ import annotations

from api_harness import Harness, make_rule

LINES = [
    "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
    "Dec 10 06:55:48 LabSZ sshd[24200]: Connection closed by 173.234.31.186 [preauth]",
]


def test_dry_run_reports_hits_per_line(harness: Harness) -> None:
    response = harness.client.post(
        "/api/v1/rules:test",
        json={"rules": [make_rule("ssh-invalid-user")], "lines": LINES},
        headers=harness.as_("editor"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert "ssh-invalid-user" in first["rule"]["id"]
    assert first["user"]["name"] == "webmaster"
    assert "ssh-invalid-user" not in (second.get("rule") or {}).get("id", [])


def test_dry_run_rejects_invalid_rules_and_stores_nothing(harness: Harness) -> None:
    broken = make_rule("x")
    broken["when"] = {"all": []}
    response = harness.client.post(
        "/api/v1/rules:test", json={"rules": [broken], "lines": LINES}, headers=harness.as_("editor")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"].startswith("$.rules[0].when")
    assert harness.publisher.records == []


def test_dry_run_body_is_strict(harness: Harness) -> None:
    response = harness.client.post(
        "/api/v1/rules:test", json={"rules": [], "lines": [1]}, headers=harness.as_("editor")
    )
    assert response.status_code == 422
