"""The CLI pieces that need no server: file loading, token hashing, the refusal to start."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from common.cli import main
from rules_api.client.cli import load_rules_file
from rules_api.client.http import resolve_token
from rules_api.security import hash_token


def test_load_one_rule_or_a_list_from_json_or_yaml(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text('{"id": "a", "when": {}, "then": []}', encoding="utf-8")
    many = tmp_path / "many.yaml"
    many.write_text("- id: a\n- id: b\n", encoding="utf-8")
    export = tmp_path / "export.json"
    export.write_text('{"rules": [{"id": "c"}], "count": 1}', encoding="utf-8")
    assert [r["id"] for r in load_rules_file(one)] == ["a"]
    assert [r["id"] for r in load_rules_file(many)] == ["a", "b"]
    assert [r["id"] for r in load_rules_file(export)] == ["c"]


def test_hash_token_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert main(["api", "hash-token"]) == 0
    assert capsys.readouterr().out.strip() == hash_token("s3cret")


def test_serve_refuses_to_start_without_tokens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LOGFLOW_API_TOKENS", raising=False)
    monkeypatch.delenv("LOGFLOW_API_TOKENS_FILE", raising=False)
    assert main(["api", "serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "no API tokens configured" in err
    assert len(err.strip().splitlines()) == 1


def test_client_token_falls_back_to_the_stack_secret(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "api-token").write_text("generated\n", encoding="utf-8")
    assert resolve_token({"LOGFLOW_HOME": str(tmp_path)}) == "generated"
    assert resolve_token({"LOGFLOW_HOME": str(tmp_path), "LOGFLOW_API_TOKEN": "explicit"}) == "explicit"
    assert resolve_token({"LOGFLOW_HOME": str(tmp_path / "none")}) is None
