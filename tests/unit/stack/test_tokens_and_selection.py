"""The generated admin token, and --only service selection."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from deploy.stack import tokens
from deploy.stack.errors import StackError
from deploy.stack.layout import StackLayout
from deploy.stack.orchestrator import select


def test_admin_token_is_created_once_with_private_modes(tmp_path: Path) -> None:
    layout = StackLayout(tmp_path)
    token = tokens.ensure_admin_token(layout)
    assert tokens.ensure_admin_token(layout) == token
    assert stat.S_IMODE(layout.secrets.stat().st_mode) == 0o700
    assert stat.S_IMODE(layout.api_token_file.stat().st_mode) == 0o600
    name, role, digest = layout.api_tokens_file.read_text().strip().split(":")
    assert (name, role) == ("local-admin", "admin")
    assert digest == hashlib.sha256(token.encode()).hexdigest()


def test_only_accepts_names_and_aliases_in_start_order() -> None:
    assert [s.name for s in select(["flink", "redis"])] == [
        "redis",
        "flink-jobmanager",
        "flink-taskmanager-1",
    ]
    assert [s.name for s in select(["es"])] == ["elasticsearch"]


def test_only_rejects_unknown_services() -> None:
    with pytest.raises(StackError, match="unknown service 'zookeeper'"):
        select(["zookeeper"])


def test_layout_follows_the_contract(tmp_path: Path) -> None:
    layout = StackLayout(tmp_path)
    assert layout.pid_file("kafka") == tmp_path / "run" / "kafka.pid"
    assert layout.log_file("kafka") == tmp_path / "logs" / "kafka.log"
    assert layout.connector_jar == tmp_path / "cache" / "jars" / "flink-sql-connector-kafka.jar"
    assert layout.flink_conf == tmp_path / "flink" / "conf"
    assert layout.api_token_file == tmp_path / "secrets" / "api-token"
