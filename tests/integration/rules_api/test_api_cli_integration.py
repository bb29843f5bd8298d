"""`logflow rules ...` against a live API on the real stack."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from api_stack import LOGFLOW, REPO, Isolation, Server, make_rule

pytestmark = pytest.mark.integration


def test_rules_commands_round_trip(
    server: Server, isolation: Isolation, unique: Callable[[str], str], tmp_path: Path
) -> None:
    env = isolation.env(LOGFLOW_API_URL=server.url, LOGFLOW_API_TOKEN=isolation.tokens["editor"])

    def rules(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LOGFLOW, "rules", *args], env=env, capture_output=True, text=True, timeout=60, cwd=REPO
        )

    first, second = unique("cli-a"), unique("cli-b")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "\n".join(
            [
                f"- id: {first}",
                "  when: {field: process.name, op: eq, value: sshd}",
                "  then: [{action: tag, value: sshd}]",
                f"- id: {second}",
                "  when: {field: process.name, op: eq, value: cron}",
                "  then: [{action: tag, value: cron}]",
            ]
        ),
        encoding="utf-8",
    )
    applied = rules("apply", str(rules_file))
    assert applied.returncode == 0, applied.stderr
    assert f"{first}: created version 1" in applied.stdout
    assert f"{second}: created version 1" in applied.stdout

    update = tmp_path / "one.json"
    update.write_text(json.dumps(make_rule(first)), encoding="utf-8")
    assert f"{first}: updated version 2" in rules("apply", str(update)).stdout
    assert f"{first}: unchanged version 2" in rules("apply", str(update)).stdout

    assert first in rules("list", "--tag", "ssh-invalid-user").stdout
    assert json.loads(rules("get", first).stdout)["version"] == 2
    assert f"{first}: disabled, version 3" in rules("disable", first).stdout
    assert f"{first}: enabled, version 4" in rules("enable", first).stdout
    history = rules("history", first).stdout.splitlines()
    assert [line.split("\t")[1] for line in history] == ["create", "update", "disable", "enable"]
    assert "now version 5" in rules("rollback", first, "1").stdout
    assert f"{second}: deleted as version 2" in rules("delete", second).stdout
    missing = rules("get", second)
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr

    invalid = tmp_path / "bad.json"
    invalid.write_text(json.dumps({"id": "Bad Id!", "when": {}, "then": []}), encoding="utf-8")
    refused = rules("apply", str(invalid))
    assert refused.returncode == 1 and "$.id" in refused.stderr
