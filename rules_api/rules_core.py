"""The API's one door into the rules core (``common.rules``): validation and the dry run.

The API never re-implements either; this module only adapts the core's results to JSON and keeps
the core's imports lazy. Dry runs go to a small worker process: durable-rules never frees a
registered ruleset (see the shared notes on its memory), so evaluating operators' ad-hoc rule sets
inside the long-lived server would grow it without bound. A worker that is replaced after a fixed
number of dry runs keeps the server's memory flat and a runaway dry run off the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import json
import multiprocessing
from collections.abc import Sequence
from typing import Any

from common.schema.rule import RULE_JSON_SCHEMA

ErrorList = list[dict[str, str]]


def _as_json(errors: Sequence[Any], under: str = "") -> ErrorList:
    # The core reports paths from the rule (or rule list) root; ``under`` re-roots them at the
    # place the rules sit in the request body, e.g. "$.rules".
    out = []
    for e in errors:
        path = str(e.path)
        if under and path.startswith("$"):
            path = under + path[1:]
        out.append({"path": path, "message": str(e.message)})
    return out


def validate_rule(rule: object) -> ErrorList:
    from common.rules import validate_rule as core_validate_rule

    return _as_json(core_validate_rule(rule))


def validate_ruleset(rules: list[object], under: str = "$") -> ErrorList:
    from common.rules import validate_ruleset as core_validate_ruleset

    return _as_json(core_validate_ruleset(rules), under)


def _dry_run_in_worker(rules: list[dict[str, Any]], lines: list[str]) -> list[dict[str, Any]]:
    from common.rules import dry_run

    # Round-trip through JSON so anything the core returns is what the HTTP answer will carry.
    return [json.loads(json.dumps(obj, default=str)) for obj in dry_run(rules, lines)]


class DryRunner:
    def __init__(self, timeout_s: float = 30.0, runs_per_worker: int = 200) -> None:
        self._timeout_s = timeout_s
        self._runs_per_worker = runs_per_worker
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the server has threads (Kafka poller, event loop) that fork would copy.
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=self._runs_per_worker,
            )
        return self._pool

    async def run(self, rules: list[dict[str, Any]], lines: list[str]) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor(), _dry_run_in_worker, rules, lines)
        except concurrent.futures.BrokenExecutor:
            self._pool = None
            future = loop.run_in_executor(self._executor(), _dry_run_in_worker, rules, lines)
        try:
            return await asyncio.wait_for(future, timeout=self._timeout_s)
        except concurrent.futures.process.BrokenProcessPool:
            self._pool = None
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def rule_json_schema() -> dict[str, Any]:
    """The rules core's published JSON Schema for one rule, for the OpenAPI description."""
    return copy.deepcopy(RULE_JSON_SCHEMA)
