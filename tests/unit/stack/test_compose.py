"""docker-compose.yml parses and describes the same topology as the native stack."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.settings import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _docker_compose_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _docker_compose_available(), reason="docker compose plugin not installed")
def test_docker_compose_config_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_topology_matches_the_native_stack() -> None:
    services = _compose()["services"]
    expected = {
        "kafka",
        "elasticsearch",
        "redis",
        "flink-jobmanager",
        "flink-taskmanager",
        "rules-api",
        "job-submit",
    }
    assert expected <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    assert services["elasticsearch"]["image"].startswith("docker.elastic.co/elasticsearch/elasticsearch:8.")
    assert services["redis"]["image"].startswith("redis:")
    assert (
        "2" in services["flink-taskmanager"]["environment"]["FLINK_PROPERTIES"].split("numberOfTaskSlots:")[1]
    )
    assert services["job-submit"]["restart"] == "no"


def test_long_running_services_have_health_checks_and_dependencies_exist() -> None:
    compose = _compose()
    services = compose["services"]
    for name in ("kafka", "elasticsearch", "redis", "flink-jobmanager", "rules-api"):
        assert "test" in services[name]["healthcheck"], name
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no health check"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source in compose["volumes"], f"{name} mounts undeclared volume {source}"
        for dockerfile in [service.get("build", {}).get("dockerfile")] if "build" in service else []:
            assert (REPO_ROOT / dockerfile).is_file(), dockerfile


def test_ports_are_published_on_loopback_only() -> None:
    for name, service in _compose()["services"].items():
        for mapping in service.get("ports", []):
            assert mapping.startswith("127.0.0.1:"), f"{name} publishes {mapping} beyond loopback"


def test_kubernetes_manifests_parse() -> None:
    manifests = [
        p for p in sorted((REPO_ROOT / "deploy" / "k8s").glob("*.yaml")) if p.name != "kustomization.yaml"
    ]
    assert manifests
    kinds = set()
    for path in manifests:
        for document in yaml.safe_load_all(Path(path).read_text()):
            if document:
                assert {"apiVersion", "kind", "metadata"} <= set(document), path
                kinds.add(document["kind"])
    assert {"Deployment", "Service", "StatefulSet"} <= kinds
