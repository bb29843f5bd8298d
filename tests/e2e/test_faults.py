"""Scaling out and losing a machine on a two-TaskManager cluster, while events flow.

Each case produces in the background while the fault happens, then checks: every produced event
indexed under its own id (0 lost), no document beyond them (0 duplicated), the Redis windows
counting exactly what was produced in each, and the tagging rule created before the first event
still applied to every event of the case. What each case measured goes to the terminal and to
``.logflow/logs/e2e-faults.jsonl``.

The stack must have two TaskManagers (`make test` starts it so); one that runs with fewer gets the
missing ones started (``LOGFLOW_TASKMANAGERS=2 logflow stack up``), and they stay up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from e2e_harness import (
    LOGFLOW,
    Pipeline,
    await_rule_in_force,
    produce_in_background,
    running_pipeline,
    stack,
    syslog_lines,
    taskmanager_pid,
    wait_for,
)

from common.settings import REPO_ROOT, flink_rest_url
from deploy.stack import processes, taskmanagers
from deploy.stack.layout import StackLayout
from jobs.control.flink_rest import FlinkRest

pytestmark = pytest.mark.e2e

TASKMANAGERS = "2"
RULE_TAG = "fault-rule"
RECORD = REPO_ROOT / ".logflow" / "logs" / "e2e-faults.jsonl"


def _rest() -> FlinkRest:
    return FlinkRest(flink_rest_url())


def _registered_taskmanagers() -> int:
    rest = _rest()
    try:
        return rest.taskmanager_count()
    finally:
        rest.close()


def _alive(pid: int | None) -> bool:
    return pid is not None and processes.pid_alive(pid)


@pytest.fixture(scope="module")
def two_taskmanagers() -> None:
    """Start the TaskManagers a stack with fewer than two lacks; they stay up afterwards.

    `make test` starts the stack with two (deploy/scripts/run-tests.sh) and stops what it started.
    Stopping them here instead once stopped the shared stack's TaskManagers, which were down when
    this module began only because another test was restarting them.
    """
    if _registered_taskmanagers() >= 2:
        return
    layout = StackLayout.from_env()
    missing = [taskmanagers.name(index) for index in (1, 2) if not _alive(taskmanagers.pid(layout, index))]
    if missing:
        stack("up", "--only", ",".join(missing), LOGFLOW_TASKMANAGERS=TASKMANAGERS)
    wait_for("two TaskManagers registered", lambda: _registered_taskmanagers() >= 2, 180, 1.0)


@pytest.fixture(scope="module")
def pipeline(two_taskmanagers: None) -> Iterator[Pipeline]:
    # Every fault stops reading for 15-40 s while the producer goes on; catching up, one partition
    # can run ahead of the other (or count as idle) and carry the watermark past the other's
    # backlog, which then counts as late, not in its window's total (seen once in four runs).
    # Disorder bounded above the longest outage keeps the exact per-window totals a fair test of
    # exactly-once rather than of catch-up order.
    with running_pipeline(job_env={"LOGFLOW_OUT_OF_ORDERNESS_SECONDS": "120"}) as instance:
        _apply_rule(instance)
        yield instance


@pytest.fixture(scope="module")
def marker(pipeline: Pipeline) -> str:
    """In every line this module produces: what the module's rule matches."""
    return _marker(pipeline)


def _marker(pipeline: Pipeline) -> str:
    return f"faults-{pipeline.suffix}"


def _apply_rule(pipeline: Pipeline) -> None:
    """A rule that tags every event of this module; in force before the first of them."""
    marker = _marker(pipeline)
    rule = {
        "id": f"tag-{marker}",
        "enabled": True,
        "priority": 10,
        "when": {"all": [{"field": "message", "op": "contains", "value": marker}]},
        "then": [{"action": "tag", "value": RULE_TAG}],
    }
    response = pipeline.api("POST", "/rules", json=rule)
    assert response.status_code == 201, response.text
    await_rule_in_force(pipeline, marker, lambda source: RULE_TAG in source.get("tags", []))


def _job(args: list[str], pipeline: Pipeline) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [LOGFLOW, "job", *args], env=pipeline.env, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, f"logflow job {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _rescale(pipeline: Pipeline, parallelism: int) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(
        _job(["rescale", "--parallelism", str(parallelism), "--json"], pipeline).stdout
    )
    assert report["old_job_id"] == pipeline.job_id
    assert report["to_parallelism"] == parallelism
    pipeline.job_id = report["new_job_id"]
    rest = _rest()
    try:
        vertices = rest.job_details(pipeline.job_id)["vertices"]
        # Every vertex that is not a single-instance one runs at the new parallelism, and the keyed
        # state kept its key groups.
        assert max(v["parallelism"] for v in vertices) == parallelism
        assert {v.get("maxParallelism", 128) for v in vertices} <= {1, 128}
    finally:
        rest.close()
    return report


def _settle(pipeline: Pipeline, case: str, ids: list[str], **figures: Any) -> None:
    """Wait for the case's events, record what was found, then assert exactly once and the rule."""
    assert len(set(ids)) == len(ids)
    documents = pipeline.await_documents(ids, timeout_s=300)
    indexed = pipeline.count()
    try:
        pipeline.await_windows_settled(timeout_s=180)
    except AssertionError:
        # Which windows are off, and by how much, is what a failure here needs to be understood.
        print(f"\nFAULT CASE {case}: windows not settled: {pipeline.window_report()}")
        raise
    actual = {w.start: w.total for w in pipeline.windows()}
    expected = pipeline.expected_window_totals()
    untagged = [i for i, doc in documents.items() if RULE_TAG not in doc["_source"].get("tags", [])]
    record = {
        "case": case,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "produced_in_case": len(ids),
        "found_in_case": len(documents),
        "lost": len(set(ids) - set(documents)),
        "produced_total": pipeline.produced,
        "documents_total": indexed,
        "duplicates": indexed - pipeline.produced,
        "redis_total": sum(actual.values()),
        "windows_wrong": sum(1 for s in set(actual) | set(expected) if actual.get(s) != expected.get(s)),
        "untagged": len(untagged),
        **figures,
    }
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    with RECORD.open("a") as out:
        out.write(json.dumps(record) + "\n")
    print(f"\nFAULT CASE {json.dumps(record)}")
    assert set(documents) == set(ids)
    assert indexed == pipeline.produced
    assert actual == expected, pipeline.window_report()
    assert untagged == []


def test_rescale_2_to_4_to_2_while_events_flow(pipeline: Pipeline, marker: str) -> None:
    for case, parallelism in (("rescale 2->4", 4), ("rescale 4->2", 2)):
        thread, ids = produce_in_background(
            pipeline, syslog_lines(f"{marker} {case}", 2000), chunks=40, pause_s=0.5
        )
        wait_for("part of the stream indexed", lambda ids=ids: len(pipeline.documents(ids[:50])) >= 50, 120)
        report = _rescale(pipeline, parallelism)
        thread.join(300)
        assert not thread.is_alive()
        _settle(
            pipeline,
            case,
            ids,
            unavailable_s=report["unavailable_s"],
            stop_s=report["stop_s"],
            savepoint=report["savepoint"],
        )


def _spread_over_both(pipeline: Pipeline) -> int:
    """Make sure the job runs subtasks on both TaskManagers; returns its parallelism."""
    rest = _rest()
    try:
        if len(rest.taskmanagers_of(pipeline.job_id)) >= 2:
            return max(v["parallelism"] for v in rest.job_details(pipeline.job_id)["vertices"])
        slots = max(
            tm["slotsNumber"] for tm in httpx.get(f"{rest.base_url}/taskmanagers").json()["taskmanagers"]
        )
    finally:
        rest.close()
    # One subtask more than a TaskManager has slots cannot fit on one.
    _rescale(pipeline, slots + 1)
    rest = _rest()
    try:
        assert len(rest.taskmanagers_of(pipeline.job_id)) >= 2
    finally:
        rest.close()
    return slots + 1


def test_one_taskmanager_killed_while_the_job_spans_both(pipeline: Pipeline, marker: str) -> None:
    parallelism = _spread_over_both(pipeline)
    thread, ids = produce_in_background(
        pipeline, syslog_lines(f"{marker} tmkill", 2000), chunks=40, pause_s=0.5
    )
    try:
        wait_for("part of the stream indexed", lambda: len(pipeline.documents(ids[:50])) >= 50, 120)
        killed_at = time.monotonic()
        os.kill(taskmanager_pid(2), signal.SIGKILL)
        time.sleep(2)
    finally:
        # Never leave the shared stack without its TaskManager, whatever happened above.
        stack("up", "--only", taskmanagers.name(2), LOGFLOW_TASKMANAGERS=TASKMANAGERS)
    pipeline.wait_job_running(300)
    recovered_s = time.monotonic() - killed_at
    thread.join(300)
    assert not thread.is_alive()
    _settle(
        pipeline, "kill -9 TaskManager 2", ids, parallelism=parallelism, recovered_s=round(recovered_s, 1)
    )


def test_jobmanager_killed_then_submit_resumes_from_the_checkpoint(pipeline: Pipeline, marker: str) -> None:
    layout = StackLayout.from_env()
    rest = _rest()
    try:
        wait_for(
            "a completed checkpoint",
            lambda: rest.checkpoint_summary(pipeline.job_id)["completed"] >= 1,
            120,
            1.0,
        )
    finally:
        rest.close()
    thread, ids = produce_in_background(
        pipeline, syslog_lines(f"{marker} jmkill", 2000), chunks=40, pause_s=0.5
    )
    try:
        wait_for("part of the stream indexed", lambda: len(pipeline.documents(ids[:50])) >= 50, 120)
        pid = processes.read_pid(layout.pid_file("flink-jobmanager"))
        assert pid is not None, "no JobManager pid file"
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        time.sleep(2)
    finally:
        stack("up", "--only", "flink-jobmanager", LOGFLOW_TASKMANAGERS=TASKMANAGERS)
    wait_for("both TaskManagers registered again", lambda: _registered_taskmanagers() >= 2, 180, 1.0)
    # The new JobManager has forgotten the job (no HA): submit must find its state on disk.
    submitted = _job(["submit", "--timeout", "300"], pipeline).stdout
    assert "resuming" in submitted and "checkpoint" in submitted, submitted
    rest = _rest()
    try:
        job = rest.active_job(pipeline.job_name)
        assert job is not None
        pipeline.job_id = job.job_id
        restored = rest.restored_from(job.job_id)
    finally:
        rest.close()
    recovered_s = time.monotonic() - killed_at
    thread.join(300)
    assert not thread.is_alive()
    _settle(
        pipeline,
        "kill -9 JobManager, then logflow job submit",
        ids,
        resumed_from=restored,
        recovered_s=round(recovered_s, 1),
    )
    # Flink itself says the new job started from a retained checkpoint of the killed one.
    assert restored is not None and "/chk-" in restored, submitted
