"""The fixture rule sets against the real loghub samples, with exactly known outcomes.

Expected counts live in tests/fixtures/rules/expected.json and are also re-derived here from
loghub's hand-made ``*_structured.csv`` (an oracle independent of our parser and engine).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from common import parsing
from common.rules import RuleEngine, load_rules_file

CORPUS = Path(__file__).resolve().parents[2] / "data" / "loghub"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def apply(engine: RuleEngine, name: str) -> tuple[list[Any], list[dict[str, str]]]:
    lines = (CORPUS / f"{name}_2k.log").read_text(errors="replace").splitlines()
    with (CORPUS / f"{name}_2k.log_structured.csv").open() as f:
        rows = list(csv.DictReader(f))
    engine.replace_all(load_rules_file(FIXTURES / EXPECTED[name]["rules"]))  # type: ignore[arg-type]
    return engine.apply_batch([parsing.parse_message(line) for line in lines]), rows


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_outcomes_are_exact(engine: RuleEngine, name: str) -> None:
    results, _ = apply(engine, name)
    expected = EXPECTED[name]
    assert dict(Counter(h for r in results for h in r.hits)) == expected["hits"]
    assert sum(r.dropped for r in results) == expected["dropped"]
    assert sum(len(r.alerts) for r in results) == expected["alerts"]


def test_linux_matches_the_ground_truth_csv(engine: RuleEngine) -> None:
    results, rows = apply(engine, "Linux")
    ipv4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
    for result, row in zip(results, rows, strict=True):
        component, content = row["Component"], row["Content"]
        auth = component == "sshd(pam_unix)" and content.startswith("authentication failure")
        ftp = component == "ftpd" and content.startswith("connection from ")
        assert ("ssh-auth-failure" in result.hits) == auth, row["LineId"]
        assert result.dropped == ftp, row["LineId"]
        if ftp:
            assert result.dropped_by == "ftp-connection-drop"
            continue
        assert ("kernel-route" in result.hits) == (component == "kernel"), row["LineId"]
        if component == "kernel":
            assert result.record["event"]["dataset"] == "linux.kernel"
        alerting = component == "su(pam_unix)" and "session opened for user cyrus" in content
        assert len(result.alerts) == int(alerting), row["LineId"]
        if ipv4.search(content):
            assert "x.x.x.x" in result.record["message"] and not ipv4.search(result.record["message"])
        if auth and "rhost=" in content:
            rhost = content.split("rhost=", 1)[1].split()[0]
            assert result.record["source"]["address"] == rhost
            assert "ssh-auth-failure" in result.record["tags"]


def test_hdfs_block_ids_are_extracted(engine: RuleEngine) -> None:
    results, rows = apply(engine, "HDFS")
    for result, row in zip(results, rows, strict=True):
        block = re.search(r"blk_-?[0-9]+", row["Content"])
        assert block is not None
        assert result.record["hdfs"]["block_id"] == block.group(0)
        assert ("hdfs-warn" in result.hits) == (row["Level"] == "WARN")
