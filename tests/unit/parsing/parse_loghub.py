"""Scoring the parser against the loghub ground truth (shared by the table test and bench/bench_parse.py)."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.parsing import ParseOptions, parse_message
from common.parsing.levels import normalize_level

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS = REPO_ROOT / "tests" / "data" / "loghub"  # the 12 loghub sets, with their LICENSE

# Fixed clock so year inference is reproducible: loghub's year-less sets are from 2005..2017.
FIXED_NOW = 1_700_000_000.0
OPTIONS = ParseOptions(clock=lambda: FIXED_NOW)


def _hms(text: str) -> str:
    return text.replace(",", ".")


def _epoch_time(text: str) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(int(text)))


# set name -> (expected time of day from a CSV row, level column or None, host column or None)
@dataclass(frozen=True)
class SetSpec:
    name: str
    standard: bool
    time_of_day: Callable[[dict[str, str]], str]
    level_column: str | None = None
    host_column: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


SETS: tuple[SetSpec, ...] = (
    SetSpec("Linux", True, lambda r: r["Time"], host_column="Level"),
    SetSpec("Zookeeper", True, lambda r: _hms(r["Time"]), level_column="Level"),
    SetSpec("Hadoop", True, lambda r: _hms(r["Time"]), level_column="Level"),
    SetSpec("Apache", True, lambda r: r["Time"].split()[3], level_column="Level"),
    SetSpec(
        "HDFS", True, lambda r: f"{r['Time'][0:2]}:{r['Time'][2:4]}:{r['Time'][4:6]}", level_column="Level"
    ),
    SetSpec("Android", True, lambda r: r["Time"], level_column="Level"),
    SetSpec("Windows", True, lambda r: r["Time"], level_column="Level"),
    SetSpec("Thunderbird", False, lambda r: r["Time"]),
    SetSpec("HealthApp", False, lambda r: r["Time"].split("-")[1][:8]),
    SetSpec("Proxifier", False, lambda r: r["Time"].split()[1]),
    SetSpec("BGL", False, lambda r: r["Time"][11:19].replace(".", ":"), level_column="Level"),
    SetSpec("HPC", False, lambda r: _epoch_time(r["Time"])),
)


@dataclass
class Score:
    name: str
    lines: int = 0
    timestamp: int = 0
    level: int = 0
    message: int = 0
    host: int = 0
    all_fields: int = 0
    failures: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)

    def rate(self, count: int) -> float:
        return count / self.lines if self.lines else 0.0


def rows(spec: SetSpec) -> Iterator[tuple[bytes, dict[str, str]]]:
    log_path = CORPUS / f"{spec.name}_2k.log"
    csv_path = CORPUS / f"{spec.name}_2k.log_structured.csv"
    with log_path.open("rb") as log_file, csv_path.open(newline="", encoding="utf-8") as csv_file:
        lines = [line.rstrip(b"\r\n") for line in log_file]
        yield from zip(lines, csv.DictReader(csv_file), strict=False)


def score(spec: SetSpec, keep_failures: int = 0) -> Score:
    result = Score(spec.name)
    for line, row in rows(spec):
        record = parse_message(line, OPTIONS)
        result.lines += 1
        expected_time = spec.time_of_day(row)
        stamp = record["@timestamp"]
        ok_time = stamp[
            11 : 11 + len(expected_time)
        ] == expected_time and "_timestamp_failure" not in record.get("tags", ())
        ok_level = True
        if spec.level_column is not None:
            ok_level = record.get("log", {}).get("level") == normalize_level(row[spec.level_column])
        ok_message = record["message"] == row["Content"].strip()
        ok_host = True
        if spec.host_column is not None:
            ok_host = record.get("host", {}).get("name") == row[spec.host_column]
        result.timestamp += ok_time
        result.level += ok_level
        result.message += ok_message
        result.host += ok_host
        if ok_time and ok_level and ok_message and ok_host:
            result.all_fields += 1
        elif len(result.failures) < keep_failures:
            result.failures.append((line.decode("utf-8", "replace"), record, row))
    return result
