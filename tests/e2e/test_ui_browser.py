"""The /ui console in a real headless Chromium (Debian's `chromium`, driven by Playwright), against a
private pipeline on the real stack: the overview shows the counters the job wrote to Redis, the live
tail shows a line just produced, the rules console creates, validates, dry-runs, saves, disables and
rolls back a rule, a viewer cannot save, and the Errors view lists error groups (seeded through
``common.schema.error_groups``' writer under the pipeline's stats prefix, since the job does not write
groups yet) with one group's records as the job indexed them.

Screenshots of every page land in ``<repo>/.logflow/artifacts/ui/`` (printed at the end); with
``LOGFLOW_UPDATE_SCREENSHOTS=1`` the overview and console shots are also copied to docs/images/ for
the README and docs/errors.md.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_harness import LOGFLOW, Pipeline, free_port, wait_for

from common.schema.error_groups import ErrorGroup, ErrorGroupKeys, group_commands
from common.settings import REPO_ROOT, RedisSettings
from jobs.sinks.redis_stats import connect
from rules_api.security import hash_token

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / ".logflow" / "artifacts" / "ui"
DOCS_IMAGES = REPO_ROOT / "docs" / "images"
# Long enough for a window to close (10 s windows, 2 s out-of-orderness, 3 s idle close) and for
# the page's 10 s refresh to pick it up.
UI_TIMEOUT_MS = 90_000

HOSTS = ("web-1", "web-2", "db-1")


@dataclass
class UiServer:
    url: str
    tokens: dict[str, str]
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def ui_server(pipeline: Pipeline) -> Iterator[UiServer]:
    """A `logflow api serve` of this tree beside the pipeline's own API: same rules store and topic
    (so its rules reach the pipeline's job), the pipeline's stats prefix and index prefix, and a
    viewer token besides the admin one."""
    tokens = {role: secrets.token_urlsafe(24) for role in ("viewer", "admin")}
    env = {
        **pipeline.env,
        "LOGFLOW_API_TOKENS": ",".join(f"ui-{role}:{role}:{hash_token(t)}" for role, t in tokens.items()),
    }
    port = free_port()
    log_dir = REPO_ROOT / ".logflow" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"e2e-ui-api-{pipeline.suffix}.log").open("wb") as log:
        process = subprocess.Popen(
            [LOGFLOW, "api", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = UiServer(f"http://127.0.0.1:{port}", tokens, process)

    def ready() -> bool:
        try:
            headers = {"Authorization": f"Bearer {tokens['viewer']}"}
            return httpx.get(f"{server.url}/readyz", headers=headers, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for("the UI's rules API to be ready", ready, 60)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (make setup does)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
    print(f"\nUI screenshots: {ARTIFACTS}")


@pytest.fixture(scope="module")
def traffic(pipeline: Pipeline) -> dict[str, Any]:
    """Lines from several hosts and datasets, some unknown, some raising an alert; all counted."""
    marker = f"uialert{time.time_ns()}"
    rule = {
        "id": f"alert-{marker}",
        "description": "alerts on the UI test's failures",
        "enabled": True,
        "priority": 50,
        "when": {"all": [{"field": "message", "op": "contains", "value": f"{marker} failure"}]},
        "then": [{"action": "alert", "severity": "high", "message": "failure on {host.name}"}],
    }
    assert pipeline.api("POST", "/rules", json=rule).status_code == 201

    def alerted() -> bool:
        pipeline.produce([f"Dec  4 10:00:00 db-1 app[1]: {marker} failure probe"])
        time.sleep(1)
        return pipeline.count({"match_all": {}}, dataset="logflow.alert-*") > 0

    wait_for("the alert rule to raise an alert", alerted, 90, 1.0)
    lines = [
        f"Dec  4 10:00:{i % 60:02d} {HOSTS[i % 3]} sshd[{i}]: Accepted password for u{i}" for i in range(60)
    ]
    lines += [f'level={("info", "warn", "error")[i % 3]} msg="tick {i}"' for i in range(30)]
    lines += [f"@@@ widget {i} frobnicated ???" for i in range(10)]
    pipeline.produce(lines)
    pipeline.await_windows_settled()
    return {"marker": marker, "total": pipeline.produced}


def _shot(page: Any, name: str, full_page: bool = True) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("LOGFLOW_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / path.name)
    return path


def _sign_in(browser: Any, server: UiServer, role: str, hash_: str = "") -> Any:
    page = browser.new_page()
    page.goto(f"{server.url}/ui{hash_}")
    page.fill("#token", server.tokens[role])
    page.press("#token", "Enter")  # the keyboard signs in: a real form, a real submit button
    page.wait_for_selector("#who:not([hidden])")
    assert server.tokens[role] not in page.url
    return page


def test_overview_shows_the_counters_the_job_wrote(
    browser: Any, ui_server: UiServer, pipeline: Pipeline, traffic: dict[str, Any]
) -> None:
    page = _sign_in(browser, ui_server, "admin", "#overview?range=15m")
    total = f"{traffic['total']:,}"
    page.wait_for_function(
        "t => document.querySelector('[data-total=total]').textContent === t",
        arg=total,
        timeout=UI_TIMEOUT_MS,
    )
    assert page.locator("#chart svg rect").count() >= 1
    legend = page.locator("#legend").inner_text()
    assert "syslog" in legend and "logfmt" in legend and "unknown" in legend
    hosts = page.locator("#by-host").inner_text()
    assert all(host in hosts for host in HOSTS)
    assert "warn" in page.locator("#by-level").inner_text()
    assert f"alert-{traffic['marker']}" in page.locator("#by-rule").inner_text()
    assert page.locator("#unknown-share").inner_text() != "0.0%"
    page.wait_for_function(
        "() => document.querySelector('#unknown-sample').textContent.includes('frobnicated')",
        timeout=UI_TIMEOUT_MS,
    )
    page.wait_for_function(
        "() => document.querySelector('#alerts').textContent.includes('failure on db-1')",
        timeout=UI_TIMEOUT_MS,
    )
    assert "range=15m" in page.url
    _shot(page, "overview")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    _shot(page, "overview-phone", full_page=False)
    page.close()


def test_live_tail_shows_a_freshly_produced_line(
    browser: Any, ui_server: UiServer, pipeline: Pipeline, traffic: dict[str, Any]
) -> None:
    marker = f"tailprobe{time.time_ns()}"
    page = _sign_in(browser, ui_server, "viewer", "#overview")
    page.fill("#tail-q", marker)
    page.press("#tail-q", "Enter")
    assert f"q={marker}" in page.url  # the filter is shareable; the token never is
    pipeline.produce([f"Dec  4 10:00:00 web-2 app[9]: {marker} fresh line"])
    page.wait_for_function(
        "m => document.querySelector('#tail').textContent.includes(m + ' fresh line')",
        arg=marker,
        timeout=UI_TIMEOUT_MS,
    )
    assert page.locator("#tail li").count() == 1
    _shot(page, "live-tail")
    page.close()


def test_rule_lifecycle_in_the_console(browser: Any, ui_server: UiServer, traffic: dict[str, Any]) -> None:
    rule_id = f"ui-rule-{time.time_ns()}"
    rule: dict[str, Any] = {
        "id": rule_id,
        "description": "tags sshd logins made in the UI test",
        "enabled": True,
        "priority": 10,
        "when": {"all": [{"field": "message", "op": "contains", "value": "Accepted password"}]},
        "then": [
            {
                "action": "extract",
                "field": "message",
                "pattern": "for (?P<user>\\S+",
                "into": {"user": "user.name"},
            },
            {"action": "tag", "value": "login"},
        ],
    }
    page = _sign_in(browser, ui_server, "admin", "#rules")
    page.click("#rule-new")
    page.fill("#rule-json", json.dumps(rule, indent=2))
    page.click("#rule-validate")
    error = page.locator("#rule-errors li").first
    error.wait_for()
    assert error.locator("button.path").inner_text() == "$.then[0].pattern"
    assert "cannot compile" in error.inner_text()
    error.locator("button.path").click()  # selects the faulty value in the editor
    selected = page.evaluate(
        "() => { const a = document.getElementById('rule-json'); return a.value.slice(a.selectionStart, a.selectionEnd); }"
    )
    assert selected == json.dumps("for (?P<user>\\S+")
    # Saving the invalid rule is refused with the same path.
    page.click("#rule-save")
    page.wait_for_function(
        "() => document.querySelector('#rule-errors').textContent.includes('$.then[0].pattern')"
    )

    rule["then"][0]["pattern"] = "for (?P<user>\\S+)"
    page.fill("#rule-json", json.dumps(rule, indent=2))
    page.click("#rule-validate")
    page.wait_for_function("() => document.querySelector('#rule-errors').textContent === 'valid'")

    page.fill(
        "#dry-lines",
        "Dec  4 10:00:00 web-1 sshd[1]: Accepted password for alice from 10.0.0.1 port 22 ssh2\n"
        "@@@ widget 1 frobnicated ???",
    )
    page.click("#dry-run")
    page.wait_for_selector("#dry-results table")
    assert f"{rule_id} hit 1 of 2 lines" in page.locator("#dry-results").inner_text()
    first = page.locator("#dry-results tbody tr").nth(0).inner_text()
    assert rule_id in first and 'user.name: — → "alice"' in first
    unmatched = page.locator("#dry-results tbody tr").nth(1).inner_text()
    assert "no rule" in unmatched and "unchanged" in unmatched
    _shot(page, "rules-dry-run")

    page.click("#rule-save")
    page.wait_for_function(
        "() => document.querySelector('#rule-errors').textContent.includes('saved: version 1')"
    )
    row = page.locator(f"tr[data-rule='{rule_id}']")
    assert row.locator(".badge").inner_text() == "enabled"

    row.get_by_role("button", name=f"Disable {rule_id}").click()
    page.wait_for_function(
        "id => document.querySelector(`tr[data-rule='${id}'] .badge`).textContent === 'disabled'", arg=rule_id
    )
    page.wait_for_selector("#history li[data-version='2']")
    assert "disable" in page.locator("#history li[data-version='2']").inner_text()
    assert "$.enabled" in page.locator("#history li[data-version='2']").inner_text()

    page.click("#history li[data-version='1'] button")
    page.wait_for_function(
        "() => document.querySelector('#rules-status').textContent.includes('rolled back to v1 (now v3)')"
    )
    assert page.locator(f"tr[data-rule='{rule_id}'] .badge").inner_text() == "enabled"
    assert "rollback" in page.locator("#history li[data-version='3']").inner_text()
    stored = httpx.get(
        f"{ui_server.url}/api/v1/rules/{rule_id}",
        headers={"Authorization": f"Bearer {ui_server.tokens['admin']}"},
        timeout=10,
    ).json()
    assert stored["version"] == 3 and stored["rule"]["enabled"] is True
    page.fill("#rule-search", rule_id)
    assert page.locator("#rules-body tr").count() == 1
    _shot(page, "rules")
    page.close()


def test_a_viewer_sees_rules_read_only(browser: Any, ui_server: UiServer, pipeline: Pipeline) -> None:
    rule_id = f"ui-viewer-{time.time_ns()}"
    rule = {
        "id": rule_id,
        "enabled": True,
        "priority": 5,
        "when": {"all": [{"field": "message", "op": "contains", "value": rule_id}]},
        "then": [{"action": "tag", "value": "seen"}],
    }
    assert pipeline.api("POST", "/rules", json=rule).status_code == 201
    page = _sign_in(browser, ui_server, "viewer", f"#rules?rule={rule_id}")
    page.wait_for_selector("#readonly-note:not([hidden])")
    page.wait_for_selector("#editor:not([hidden])")
    assert "viewer" in page.locator("#who").inner_text()
    for selector in (
        "#rule-save",
        "#rule-new",
        "#rule-validate",
        "#dry-run",
        "#rule-delete",
        "#rule-export",
        "#rule-import-button",
    ):
        assert page.locator(selector).is_disabled(), selector
    assert (
        page.locator(f"tr[data-rule='{rule_id}']")
        .get_by_role("button", name=f"Disable {rule_id}")
        .is_disabled()
    )
    assert json.loads(page.locator("#rule-json").input_value())["id"] == rule_id
    assert not page.locator("#rule-json").is_editable()
    _shot(page, "rules-viewer")
    page.close()


def _seed_groups(pipeline: Pipeline, groups: list[ErrorGroup]) -> None:
    """The groups as the job will write them: the contract's commands, in one MULTI/EXEC."""
    keys = ErrorGroupKeys(pipeline.stats_prefix, pipeline.window_seconds)
    client = connect(RedisSettings.from_env())
    try:
        pipe = client.pipeline(transaction=True)
        for group in groups:
            for command in group_commands(keys, group, 3600):
                pipe.execute_command(*command)
        pipe.execute()
    finally:
        client.close()


def _job_group(pipeline: Pipeline, fingerprint: str) -> dict[str, str]:
    keys = ErrorGroupKeys(pipeline.stats_prefix, pipeline.window_seconds)
    client = connect(RedisSettings.from_env())
    try:
        return dict(client.hgetall(keys.group(fingerprint)))
    finally:
        client.close()


# The list as the page shows it, keeping only the groups this test knows: the job also groups the
# error lines the module's other tests produce.
_OURS_JS = "ours => [...document.querySelectorAll('#groups li')].map(i => i.dataset.key).filter(k => ours.includes(k))"


def test_errors_view_lists_groups_and_a_groups_records(
    browser: Any, ui_server: UiServer, pipeline: Pipeline
) -> None:
    marker = f"uierr{time.time_ns()}"
    # One partition, so 7 is the group's earliest record, its sample, whatever the timestamps' tie.
    pipeline.produce([f'level=error msg="payment {n} declined for {marker}"' for n in (7, 8)], partition=0)
    query = {"match_phrase": {"message": marker}}
    wait_for("both error records indexed", lambda: pipeline.count(query) == 2, 90, 1.0)
    fingerprints = {hit["_source"]["error"]["fingerprint"] for hit in pipeline.search(query)}
    assert len(fingerprints) == 1, fingerprints  # the same error with other numbers: one group
    (fingerprint,) = fingerprints
    # The job writes this group itself (keyed state -> Redis); only a group three days old, which
    # the job cannot have seen, is seeded beside it.
    wait_for(
        "the job's error group counting both records",
        lambda: _job_group(pipeline, fingerprint).get("count") == "2",
        90,
        1.0,
    )
    old = ErrorGroup(
        "0ld0000000000001",
        120,
        time.time() - 3 * 86400,
        time.time() - 600,
        "db down",
        "java.io.IOException",
        "log4j",
        "db-1",
    )
    _seed_groups(pipeline, [old])
    ours = [fingerprint, old.fingerprint]

    page = _sign_in(browser, ui_server, "viewer", "#errors?since=24h")
    page.wait_for_selector(f"#groups li[data-key='{fingerprint}']", timeout=UI_TIMEOUT_MS)
    keys = lambda: page.eval_on_selector_all("#groups li", "items => items.map(i => i.dataset.key)")  # noqa: E731
    assert [k for k in keys() if k in ours] == ours  # most recently seen first
    row = page.locator(f"#groups li[data-key='{old.fingerprint}']").inner_text()
    assert "120" in row and "java.io.IOException" in row and "db down" in row and "log4j · db-1" in row

    page.select_option("#errors-order", "count")
    page.wait_for_function(
        f"ours => JSON.stringify(({_OURS_JS})(ours)) === JSON.stringify([ours[1], ours[0]])", arg=ours
    )
    assert "order=count" in page.url
    page.check("#errors-new")  # the old group was first seen 3 days ago
    page.wait_for_function(
        f"ours => JSON.stringify(({_OURS_JS})(ours)) === JSON.stringify([ours[0]])", arg=ours
    )
    assert "new=1" in page.url

    # The keyboard opens a group: focus its link, Enter; the detail takes focus, Escape closes it.
    page.focus(f"#groups a[data-fingerprint='{fingerprint}']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#group:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "group"
    assert f"group={fingerprint}" in page.url
    assert page.locator("#group-message").inner_text() == f"payment 7 declined for {marker}"
    assert "<num>" in page.locator("#group-template").inner_text()
    page.wait_for_function(
        "() => document.querySelectorAll('#group-records li:not(.muted)').length === 2", timeout=UI_TIMEOUT_MS
    )
    records = page.locator("#group-records").inner_text()
    assert "payment 7 declined" in records and "payment 8 declined" in records
    assert fingerprint in (page.locator("#group-search").text_content() or "")  # inside a closed <details>
    page.uncheck("#errors-new")  # both groups in the shot; the open group stays open
    page.wait_for_function(f"ours => ({_OURS_JS})(ours).length === 2", arg=ours)
    assert f"group={fingerprint}" in page.url and "new=1" not in page.url
    _shot(page, "errors")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    _shot(page, "errors-phone", full_page=False)
    page.focus("#group-close")  # Escape anywhere in the open group closes it
    page.keyboard.press("Escape")
    page.wait_for_selector("#group", state="hidden")
    assert "group=" not in page.url
    assert page.evaluate("document.activeElement.dataset.fingerprint") == fingerprint

    # A shared link opens the same view, filters and group.
    shared = _sign_in(
        browser, ui_server, "viewer", f"#errors?since=24h&order=count&new=1&group={fingerprint}"
    )
    shared.wait_for_selector("#group:not([hidden])")
    assert shared.locator("#errors-order").input_value() == "count" and shared.is_checked("#errors-new")
    shared.close()
    page.close()
