"""``logflow rules test`` and the ``dry_run`` it shares with the rules API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from common.cli import main
from common.rules import RuleValidationError, dry_run

pytest.importorskip("common.parsing")

LINES = [
    "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 rhost=218.188.2.4",
    "Jun 15 04:06:18 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)",
    "Jun 15 04:12:42 combo ftpd[24085]: connection from 82.68.222.195 () at Wed Jun 15 04:12:42 2005",
]
RULES = Path(__file__).resolve().parents[2] / "fixtures" / "rules" / "linux.yaml"


def run_cli(capsys: Any, *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["rules", "test", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_cli_prints_one_object_per_line(tmp_path: Path, capsys: Any) -> None:
    lines = tmp_path / "lines.log"
    lines.write_text("\n".join(LINES) + "\n")
    code, out, err = run_cli(capsys, "--rules", str(RULES), "--lines", str(lines))
    assert (code, err) == (0, "")
    assert len(out) == 3
    auth, su, ftp = out
    assert auth["rule"]["id"] == ["ssh-auth-failure", "mask-ipv4"]
    assert auth["tags"] == ["ssh-auth-failure"] and auth["source"]["address"] == "218.188.2.4"
    assert [a["message"] for a in su["alerts"]] == ["cyrus session on combo (21416)"]
    assert ftp == {"dropped": True, "rule": {"id": "ftp-connection-drop"}, "event": {"original": LINES[2]}}


def test_cli_reports_validation_errors_with_paths(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"id": "x", "when": {"field": "m", "op": "nope"}, "then": [{"action": "drop"}]})
    )
    lines = tmp_path / "l.log"
    lines.write_text("x\n")
    code, out, err = run_cli(capsys, "--rules", str(bad), "--lines", str(lines))
    assert code == 2 and out == []
    assert f"{bad}: $[0].when.op: unknown operator 'nope'" in err


def test_cli_rejects_unreadable_input(tmp_path: Path, capsys: Any) -> None:
    code, _, err = run_cli(capsys, "--rules", str(tmp_path / "none.yaml"), "--lines", "-")
    assert code == 2 and "cannot read rules" in err


def test_dry_run_accepts_bytes_and_validates_first() -> None:
    rule = {
        "id": "t",
        "when": {"field": "message", "op": "contains", "value": "cyrus"},
        "then": [{"action": "drop"}],
    }
    out = list(dry_run([rule], [line.encode() + b"\n" for line in LINES]))
    assert [o.get("dropped", False) for o in out] == [False, True, False]
    with pytest.raises(RuleValidationError):
        list(dry_run([{"id": "t"}], LINES))
