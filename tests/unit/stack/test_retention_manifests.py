"""Retention is scheduled in docker compose and Kubernetes with the settings the job reads too."""

from __future__ import annotations

from typing import Any

import yaml

from common.settings import REPO_ROOT

K8S = REPO_ROOT / "deploy" / "k8s"


def _documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def test_compose_runs_prune_on_a_loop_with_the_shared_environment() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["retention"]
    assert service["command"][:4] == ["logflow", "indices", "prune", "--every"]
    assert service["restart"] == "unless-stopped"
    assert service["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    assert "test" in service["healthcheck"]
    image_builder = [
        s for s in compose["services"].values() if s.get("image") == service["image"] and "build" in s
    ]
    assert image_builder, "the retention image must be one the compose file builds"
    # job-submit installs the ILM policy from the same settings the pruner uses.
    for name in ("retention", "job-submit"):
        env = compose["services"][name]["environment"]
        assert {"LOGFLOW_RETENTION_DAYS", "LOGFLOW_RETENTION_MODE"} <= set(env), name


def test_kubernetes_cronjob_is_listed_and_uses_the_shared_config() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "retention.yaml" in kustomization["resources"]
    (cronjob,) = _documents("retention.yaml")
    assert cronjob["kind"] == "CronJob" and cronjob["apiVersion"] == "batch/v1"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001}
    (container,) = pod["containers"]
    assert container["command"] == ["logflow", "indices", "prune"]
    assert container["image"] in {i["name"] for i in kustomization["images"]}
    refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
    config = {d["metadata"]["name"]: d for d in _documents("config.yaml")}
    assert refs == {"logflow-endpoints", "logflow-credentials"} and refs <= set(config)
    settings = config["logflow-endpoints"]["data"]
    assert settings["LOGFLOW_RETENTION_DAYS"] == "30" and settings["LOGFLOW_RETENTION_MODE"] == "auto"
    # The job's pods read the same ConfigMap, so submission installs a policy with the same days.
    flink = [d for d in _documents("flink.yaml") if d["kind"] == "Deployment"]
    for deployment in flink:
        (jm,) = deployment["spec"]["template"]["spec"]["containers"]
        assert {"name": "logflow-endpoints"} in [r.get("configMapRef") for r in jm["envFrom"]]
