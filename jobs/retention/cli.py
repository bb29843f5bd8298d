"""``logflow indices prune [--dry-run] [--json] [--every INTERVAL [--status-file PATH]]``.

Once: prune, print the report, exit 0 (1 if a delete failed, 2 on bad settings). With ``--every``
it is its own scheduler (the local stack's ``retention`` service, docker compose): one run at
start, then one per interval; a failed run (Elasticsearch down) is logged and retried next time,
and after each run the status file records the outcome for ``logflow stack status``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import RetentionConfig
from .policy import RetentionError, parse_interval

RETRY_AFTER_FAILURE_S = 60


def configure_prune(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Delete logflow's daily indices <LOGFLOW_INDEX_PREFIX>-<dataset>-<yyyy.MM.dd> whose whole UTC "
        "day is older than LOGFLOW_RETENTION_DAYS (default 30; 'off' disables)."
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--every", metavar="INTERVAL", help="keep running, pruning at start and then every INTERVAL (e.g. 1h)"
    )
    parser.add_argument(
        "--status-file", type=Path, help="with --every: write each run's outcome here (JSON, with this pid)"
    )
    parser.set_defaults(handler=_prune_command)


def _prune_command(args: argparse.Namespace) -> int:
    try:
        config = RetentionConfig.from_env()
        interval = parse_interval(args.every) if args.every else None
    except RetentionError as exc:
        print(f"logflow indices prune: {exc}", file=sys.stderr)
        return 2
    if interval is None:
        return run_once(config, args.dry_run, args.json)
    return run_every(config, interval, args.dry_run, args.json, args.status_file)


def run_once(config: RetentionConfig, dry_run: bool, as_json: bool) -> int:
    from elasticsearch import ApiError, TransportError

    if config.days is None:
        _print_off(as_json, dry_run)
        return 0
    from .prune import prune

    client = _client(config)
    try:
        report = prune(client, config.index_prefix, config.days, datetime.now(UTC), dry_run)
    except (ApiError, TransportError) as exc:
        print(
            f"logflow indices prune: cannot list indices at {config.elasticsearch.url}: {exc}",
            file=sys.stderr,
        )
        return 1
    finally:
        client.close()
    if as_json:
        print(json.dumps(report.to_json(), indent=2), flush=True)
    else:
        print(render(report.to_json()), flush=True)
    return 1 if report.errors else 0


def run_every(
    config: RetentionConfig, interval_s: int, dry_run: bool, as_json: bool, status_file: Path | None
) -> int:
    print(
        f"{_now()} logflow indices prune every {interval_s}s: prefix {config.index_prefix!r}, "
        f"retention {config.days if config.days is not None else 'off'} days, "
        f"Elasticsearch {config.elasticsearch.url}",
        flush=True,
    )
    while True:
        started = time.monotonic()
        print(f"{_now()} run", flush=True)
        try:
            code = run_once(config, dry_run, as_json)
        except Exception as exc:  # the scheduler outlives any one run; the next may succeed
            print(f"{_now()} run failed: {exc!r}", file=sys.stderr, flush=True)
            code = 1
        if status_file is not None:
            _write_status(
                status_file, {"pid": os.getpid(), "at": _now(), "ok": code == 0, "interval_s": interval_s}
            )
        # After a failure (Elasticsearch still starting, or briefly away) try again within a minute.
        wait_s = interval_s if code == 0 else min(interval_s, RETRY_AFTER_FAILURE_S)
        time.sleep(max(1.0, wait_s - (time.monotonic() - started)))


def _write_status(path: Path, status: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(status) + "\n")
    tmp.replace(path)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _client(config: RetentionConfig) -> Any:
    from elasticsearch import Elasticsearch

    return Elasticsearch(**config.elasticsearch.client_kwargs(), request_timeout=60)


def _print_off(as_json: bool, dry_run: bool) -> None:
    if as_json:
        print(
            json.dumps({"retention_days": None, "dry_run": dry_run, "expired": [], "deleted": []}), flush=True
        )
    else:
        print("retention is off (LOGFLOW_RETENTION_DAYS=off): nothing deleted", flush=True)


def _size(num_bytes: int) -> str:
    size = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def render(report: dict[str, Any]) -> str:
    """The report for people: what went (or would go), totals, and what was left alone and why."""
    verb = "would delete" if report["dry_run"] else "deleted"
    expired = report["expired"]
    deleted = set(report["deleted"])
    lines = [
        f"{report['prefix']}-*: retention {report['retention_days']} days (UTC), "
        f"keeping {report['oldest_kept_day']} and later"
    ]
    shown = expired if report["dry_run"] else [e for e in expired if e["index"] in deleted]
    lines.append(
        f"{verb} {len(shown)} indices, {sum(e['docs'] or 0 for e in shown)} docs, "
        f"{_size(sum(e['bytes'] or 0 for e in shown))}" + (":" if shown else "")
    )
    for entry in shown:
        docs = "closed" if entry["docs"] is None else f"{entry['docs']} docs"
        size = "" if entry["bytes"] is None else f", {_size(entry['bytes'])}"
        lines.append(f"  {entry['index']}  ({docs}{size})")
    lines.append(f"kept {len(report['kept'])} logflow indices within the retention")
    for skipped in report["skipped"]:
        lines.append(f"skipped {skipped['index']}: {skipped['reason']}")
    if report["foreign"]:
        lines.append(
            f"left alone {len(report['foreign'])} indices under the prefix that are not daily indices"
        )
    for error in report["errors"]:
        lines.append(f"error: {error}")
    return "\n".join(lines)
