"""Where the local stack keeps its files under ``LOGFLOW_HOME``.

Contract shared with the other areas: ``cache/`` (downloads), ``data/<service>/``, ``logs/<service>.log``,
``run/<service>.pid``, ``secrets/`` (mode 0700) and ``flink/conf/``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from common.settings import REPO_ROOT, logflow_home


@dataclass(frozen=True)
class StackLayout:
    home: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackLayout:
        return cls(home=logflow_home(environ))

    @property
    def cache(self) -> Path:
        return self.home / "cache"

    @property
    def kafka_jars(self) -> Path:
        return self.cache / "kafka"

    @property
    def jars(self) -> Path:
        return self.cache / "jars"

    @property
    def connector_jar(self) -> Path:
        return self.jars / "flink-sql-connector-kafka.jar"

    @property
    def elasticsearch_dist(self) -> Path:
        return self.cache / "elasticsearch"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def api_token_file(self) -> Path:
        return self.secrets / "api-token"

    @property
    def api_tokens_file(self) -> Path:
        return self.secrets / "api-tokens"

    @property
    def flink_conf(self) -> Path:
        return self.home / "flink" / "conf"

    @property
    def flink_lib(self) -> Path:
        return self.home / "flink" / "lib"

    def conf(self, service: str) -> Path:
        """Generated configuration of a service (Flink's lives at the contracted ``flink/conf``)."""
        return self.home / "conf" / service

    def data(self, service: str) -> Path:
        return self.home / "data" / service

    def log_file(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def pid_file(self, service: str) -> Path:
        return self.run / f"{service}.pid"


def maven_pom(name: str) -> Path:
    """A pom under deploy/maven/ listing what one service needs from Maven."""
    return REPO_ROOT / "deploy" / "maven" / name / "pom.xml"


def venv_python() -> Path:
    """The interpreter Flink's Python workers run: the repo's own virtualenv, else the current one."""
    candidate = REPO_ROOT / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)
