"""`logflow indices prune` against the real Elasticsearch, on backdated indices of a private prefix.

Only indices this test creates are touched: the prune runs with LOGFLOW_INDEX_PREFIX set to a
random prefix, and cleanup deletes the test's own indices by explicit name.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from common.settings import ElasticsearchSettings
from jobs.retention.config import RetentionConfig
from jobs.retention.ilm import ilm_available, ilm_policy, policy_name, prepare_ilm_retention
from jobs.retention.policy import RetentionError, oldest_kept_day

pytestmark = [pytest.mark.integration, pytest.mark.stack_services("elasticsearch")]

LOGFLOW = str(Path(sys.executable).parent / "logflow")
RETENTION_DAYS = 30


def _day(d: Any) -> str:
    return d.strftime("%Y.%m.%d")


@pytest.fixture
def es() -> Iterator[Elasticsearch]:
    client = Elasticsearch(**ElasticsearchSettings.from_env().client_kwargs(), request_timeout=30)
    yield client
    client.close()


@pytest.fixture
def layout(es: Elasticsearch) -> Iterator[dict[str, Any]]:
    prefix = f"lftest{uuid.uuid4().hex[:10]}"
    first_kept = oldest_kept_day(datetime.now(UTC), RETENTION_DAYS)
    expired = [
        f"{prefix}-nginx.access-2020.01.01",
        f"{prefix}-logflow.alert-2020.01.02",
        f"{prefix}-k8s-audit-{_day(first_kept - timedelta(days=1))}",
        f"{prefix}-closed-2020.01.04",
    ]
    kept = [f"{prefix}-nginx.access-{_day(datetime.now(UTC))}", f"{prefix}-syslog-{_day(first_kept)}"]
    survivors = [
        f"{prefix}x-nginx-2020.01.01",  # outside the prefix, shares its start
        f"other{prefix}-nginx-2020.01.01",
        f"{prefix}-nginx.access",  # the prefix but not the daily pattern
        f"{prefix}-nginx.access-2020.02.30",
        f"{prefix}-nginx.access-2020.01.01-000001",
    ]
    aliased = f"{prefix}-aliased-2020.01.03"
    created = [*expired, *kept, *survivors, aliased]
    try:
        for name in created:
            es.indices.create(index=name, settings={"number_of_shards": 1, "number_of_replicas": 0})
        es.index(index=expired[0], id="1", document={"message": "old"}, refresh=True)
        es.index(index=expired[0], id="2", document={"message": "older"}, refresh=True)
        es.indices.put_alias(index=aliased, name=f"{prefix}-keep-me")
        es.indices.close(index=f"{prefix}-closed-2020.01.04")
        yield {"prefix": prefix, "expired": expired, "kept": kept, "survivors": survivors, "aliased": aliased}
    finally:
        es.indices.delete(index=",".join(created), ignore_unavailable=True, expand_wildcards="none")


def _prune(prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOGFLOW_INDEX_PREFIX": prefix, "LOGFLOW_RETENTION_DAYS": str(RETENTION_DAYS)}
    return subprocess.run(
        [LOGFLOW, "indices", "prune", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _existing(es: Elasticsearch, names: list[str]) -> set[str]:
    return {name for name in names if es.indices.exists(index=name, expand_wildcards="none")}


def test_dry_run_lists_exactly_the_expired_days_and_the_real_run_deletes_exactly_them(
    es: Elasticsearch, layout: dict[str, Any]
) -> None:
    prefix, expired = layout["prefix"], layout["expired"]
    everything = [*expired, *layout["kept"], *layout["survivors"], layout["aliased"]]

    dry = _prune(prefix, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True
    assert sorted(e["index"] for e in report["expired"]) == sorted(expired)
    assert report["deleted"] == []
    by_name = {e["index"]: e for e in report["expired"]}
    assert by_name[expired[0]]["docs"] == 2 and by_name[expired[0]]["dataset"] == "nginx.access"
    assert by_name[f"{prefix}-closed-2020.01.04"]["docs"] is None
    assert report["total_docs"] == 2
    assert sorted(report["kept"]) == sorted(layout["kept"])
    assert report["skipped"] == [{"index": layout["aliased"], "reason": f"has aliases ({prefix}-keep-me)"}]
    assert _existing(es, everything) == set(everything)

    text = _prune(prefix, "--dry-run")
    assert text.returncode == 0, text.stderr
    assert f"would delete {len(expired)} indices, 2 docs" in text.stdout
    assert _existing(es, everything) == set(everything)

    real = _prune(prefix, "--json")
    assert real.returncode == 0, real.stderr
    report = json.loads(real.stdout)
    assert sorted(report["deleted"]) == sorted(expired)
    assert _existing(es, everything) == set(everything) - set(expired)

    again = _prune(prefix, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["deleted"] == []


def test_bad_retention_setting_is_a_clear_error_and_deletes_nothing(layout: dict[str, Any]) -> None:
    env = {**os.environ, "LOGFLOW_INDEX_PREFIX": layout["prefix"], "LOGFLOW_RETENTION_DAYS": "0"}
    result = subprocess.run(
        [LOGFLOW, "indices", "prune"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "LOGFLOW_RETENTION_DAYS" in result.stderr


def test_scheduled_mode_prunes_at_start_and_records_its_status(
    es: Elasticsearch, layout: dict[str, Any], tmp_path: Path
) -> None:
    status_file = tmp_path / "retention.status.json"
    env = {
        **os.environ,
        "LOGFLOW_INDEX_PREFIX": layout["prefix"],
        "LOGFLOW_RETENTION_DAYS": str(RETENTION_DAYS),
    }
    proc = subprocess.Popen(
        [LOGFLOW, "indices", "prune", "--every", "1h", "--status-file", str(status_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not status_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        status = json.loads(status_file.read_text())
        assert status["pid"] == proc.pid and status["ok"] is True and status["interval_s"] == 3600
        assert _existing(es, layout["expired"]) == set()
        assert _existing(es, layout["survivors"]) == set(layout["survivors"])
        assert proc.poll() is None, "the scheduler must keep running between runs"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_ilm_policy_follows_the_clusters_capabilities(es: Elasticsearch) -> None:
    prefix = f"lftest{uuid.uuid4().hex[:10]}"
    if not ilm_available(es):
        # The local stack's integ-test distribution has no ILM: auto falls back to pruning, ilm refuses.
        assert prepare_ilm_retention(es, RetentionConfig(days=7, mode="auto", index_prefix=prefix)) == {}
        with pytest.raises(RetentionError, match="no ILM"):
            prepare_ilm_retention(es, RetentionConfig(days=7, mode="ilm", index_prefix=prefix))
        return
    try:
        settings = prepare_ilm_retention(es, RetentionConfig(days=7, mode="auto", index_prefix=prefix))
        assert settings["index"]["lifecycle"]["name"] == policy_name(prefix)
        stored = es.ilm.get_lifecycle(name=policy_name(prefix))[policy_name(prefix)]["policy"]
        assert stored["phases"]["delete"] == ilm_policy(7)["phases"]["delete"]
        # The origination date comes from the name, so a backdated index is already past 7 days.
        index = f"{prefix}-nginx.access-2020.01.01"
        es.indices.create(index=index, settings={"number_of_replicas": 0, **settings})
        explained = es.ilm.explain_lifecycle(index=index)["indices"][index]
        assert explained["managed"] is True and explained["policy"] == policy_name(prefix)
    finally:
        es.indices.delete(index=f"{prefix}-nginx.access-2020.01.01", ignore_unavailable=True)
        es.options(ignore_status=404).ilm.delete_lifecycle(name=policy_name(prefix))
