"""Pruning's requests and the ILM policy, against an in-memory stand-in for the client.

The real cluster is exercised by tests/integration/jobs/test_indices_prune.py; here the shape of
what is sent is pinned down: explicit names only, short request lines, aliases and data streams
left alone, and the policy and template settings ILM gets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from elasticsearch import ApiError, ConnectionError

from jobs.retention.cli import render
from jobs.retention.config import RetentionConfig
from jobs.retention.ilm import (
    ilm_available,
    ilm_policy,
    ilm_template_settings,
    prepare_ilm_retention,
    with_template_settings,
)
from jobs.retention.policy import RetentionError
from jobs.retention.prune import name_batches, prune

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _api_error(status: int) -> ApiError:
    return ApiError("error", SimpleNamespace(status=status), {"error": "x"})  # type: ignore[arg-type]


class FakeIndices:
    def __init__(self, resolved: dict[str, Any], fail_on: str = "") -> None:
        self.resolved = resolved
        self.deleted: list[dict[str, Any]] = []
        self.fail_on = fail_on

    def resolve_index(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs == {"name": "logs-*", "expand_wildcards": "open,closed"}
        return self.resolved

    def delete(self, **kwargs: Any) -> dict[str, Any]:
        assert "*" not in kwargs["index"]
        if self.fail_on and self.fail_on in kwargs["index"]:
            raise ConnectionError("connection refused")
        self.deleted.append(kwargs)
        return {"acknowledged": True}


class FakeCat:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def indices(self, **kwargs: Any) -> list[dict[str, Any]]:
        assert kwargs["format"] == "json" and kwargs["bytes"] == "b"
        return self.rows


class FakeClient:
    def __init__(self, names: list[str], fail_on: str = "", **resolved: Any) -> None:
        entries = resolved.pop("entries", {})
        indices = [{"name": n, "attributes": ["open"], **entries.get(n, {})} for n in names]
        self.indices = FakeIndices(
            {"indices": indices, "aliases": [], "data_streams": [], **resolved}, fail_on
        )
        self.cat = FakeCat([{"index": n, "docs.count": "10", "store.size": "2048"} for n in names])


def test_prune_deletes_exactly_the_expired_daily_indices_by_name() -> None:
    names = ["logs-a-2020.01.01", "logs-b.c-2026.11.03", "logs-a-2026.11.04", "logs-a", "logs-a-2026.02.30"]
    client = FakeClient(names)
    report = prune(client, "logs", 30, NOW, dry_run=False)
    assert client.indices.deleted == [
        {
            "index": "logs-a-2020.01.01,logs-b.c-2026.11.03",
            "ignore_unavailable": True,
            "expand_wildcards": "none",
        }
    ]
    assert report.deleted == ["logs-a-2020.01.01", "logs-b.c-2026.11.03"]
    assert (report.total_docs, report.total_bytes) == (20, 4096)
    assert report.kept == ["logs-a-2026.11.04"]
    assert report.foreign == ["logs-a", "logs-a-2026.02.30"]
    text = render(report.to_json())
    assert "deleted 2 indices, 20 docs, 4.0 KiB" in text and "logs-b.c-2026.11.03" in text


def test_dry_run_deletes_nothing_and_lists_the_same() -> None:
    client = FakeClient(["logs-a-2020.01.01", "logs-a-2026.12.04"])
    report = prune(client, "logs", 30, NOW, dry_run=True)
    assert client.indices.deleted == []
    assert [e.index.name for e in report.expired] == ["logs-a-2020.01.01"] and report.deleted == []
    assert render(report.to_json()).splitlines()[1] == "would delete 1 indices, 10 docs, 2.0 KiB:"


def test_indices_with_aliases_data_streams_and_aliases_named_like_indices_are_skipped() -> None:
    client = FakeClient(
        ["logs-a-2020.01.01", "logs-b-2020.01.01", "logs-c-2020.01.01"],
        entries={
            "logs-a-2020.01.01": {"aliases": ["keep-me"]},
            "logs-b-2020.01.01": {"data_stream": "logs-b"},
        },
        aliases=[{"name": "logs-d-2020.01.01", "indices": ["other"]}],
        data_streams=[{"name": "logs-e-2020.01.01", "backing_indices": [".ds-x"]}],
    )
    report = prune(client, "logs", 30, NOW, dry_run=False)
    assert report.deleted == ["logs-c-2020.01.01"]
    assert {s["index"] for s in report.skipped} == {
        "logs-a-2020.01.01",
        "logs-b-2020.01.01",
        "logs-d-2020.01.01",
        "logs-e-2020.01.01",
    }


def test_many_names_go_in_several_short_requests_and_a_failed_one_is_reported() -> None:
    names = [f"logs-dataset{i:03d}-2020.01.01" for i in range(300)]
    client = FakeClient(names, fail_on="dataset299")
    report = prune(client, "logs", 30, NOW, dry_run=False)
    sent = [call["index"] for call in client.indices.deleted]
    assert len(sent) > 1 and all(len(line) <= 3000 for line in sent)
    assert len(report.deleted) < 300 and len(report.errors) == 1 and "dataset299" in report.errors[0]
    assert sorted(report.deleted) == sorted(",".join(sent).split(","))


def test_name_batches_keep_every_name_once_in_order() -> None:
    names = [f"n{i}" * 5 for i in range(50)]
    batches = list(name_batches(names, max_chars=40))
    assert [n for batch in batches for n in batch] == names
    assert all(len(",".join(batch)) <= 40 for batch in batches)


def test_policy_deletes_a_day_after_retention_days_from_the_named_date() -> None:
    policy = ilm_policy(30)
    assert policy["phases"] == {"delete": {"min_age": "31d", "actions": {"delete": {}}}}
    assert policy["_meta"]["retention_days"] == 30
    with pytest.raises(RetentionError):
        ilm_policy(0)


def test_template_settings_merge_without_losing_the_templates_own() -> None:
    template: dict[str, Any] = {
        "index_patterns": ["logs-*"],
        "template": {"settings": {"index": {"number_of_shards": 1}}},
    }
    merged = with_template_settings(template, ilm_template_settings("logs"))
    assert merged["template"]["settings"]["index"] == {
        "number_of_shards": 1,
        "lifecycle": {"name": "logs-logflow-retention", "parse_origination_date": True},
    }
    assert template["template"]["settings"]["index"] == {"number_of_shards": 1}


class FakeIlm:
    def __init__(self, status: int | None) -> None:
        self.status = status
        self.policies: dict[str, Any] = {}

    def get_status(self) -> dict[str, str]:
        if self.status is not None:
            raise _api_error(self.status)
        return {"operation_mode": "RUNNING"}

    def put_lifecycle(self, *, name: str, policy: dict[str, Any]) -> None:
        self.policies[name] = policy


@pytest.mark.parametrize("status", [400, 404, 405])
def test_a_cluster_without_ilm_is_recognised(status: int) -> None:
    assert not ilm_available(SimpleNamespace(ilm=FakeIlm(status)))


def test_permission_errors_are_not_read_as_no_ilm() -> None:
    with pytest.raises(ApiError):
        ilm_available(SimpleNamespace(ilm=FakeIlm(403)))


def test_prepare_installs_the_policy_only_when_retention_goes_through_ilm() -> None:
    with_ilm = SimpleNamespace(ilm=FakeIlm(None))
    settings = prepare_ilm_retention(with_ilm, RetentionConfig(days=7, mode="auto", index_prefix="lf"))
    assert settings == ilm_template_settings("lf")
    assert with_ilm.ilm.policies == {"lf-logflow-retention": ilm_policy(7)}

    for config in (RetentionConfig(mode="prune"), RetentionConfig(days=None, mode="ilm")):
        client = SimpleNamespace(ilm=FakeIlm(None))
        assert prepare_ilm_retention(client, config) == {}
        assert client.ilm.policies == {}

    without = SimpleNamespace(ilm=FakeIlm(405))
    assert prepare_ilm_retention(without, RetentionConfig(mode="auto")) == {}
    with pytest.raises(RetentionError, match="LOGFLOW_RETENTION_MODE=ilm"):
        prepare_ilm_retention(without, RetentionConfig(mode="ilm"))


class FakeTemplates:
    def __init__(self) -> None:
        self.put: dict[str, Any] = {}

    def put_index_template(self, *, name: str, **body: Any) -> None:
        self.put[name] = body


def test_the_job_template_names_the_policy_it_installed_first() -> None:
    from jobs.sinks.elasticsearch.template import index_template, install_index_template

    client = SimpleNamespace(ilm=FakeIlm(None), indices=FakeTemplates())
    lifecycle = prepare_ilm_retention(client, RetentionConfig(days=3, mode="auto", index_prefix="lf"))
    install_index_template(client, "lf", lifecycle)
    installed = client.indices.put["lf-logflow"]
    assert installed["template"]["settings"]["index"]["lifecycle"]["name"] in client.ilm.policies
    assert installed["template"]["mappings"] == index_template("lf")["template"]["mappings"]

    without = SimpleNamespace(ilm=FakeIlm(405), indices=FakeTemplates())
    install_index_template(without, "lf", prepare_ilm_retention(without, RetentionConfig(index_prefix="lf")))
    assert without.indices.put["lf-logflow"] == index_template("lf")
