"""Failures mid-stream on the real stack: every event ends up in Elasticsearch exactly once and the
Redis window totals stay exact."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from e2e_harness import (
    Pipeline,
    produce_in_background,
    running_pipeline,
    stack,
    syslog_lines,
    taskmanager_pid,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    """This module's pipeline, with disorder bounded above its outages (a killed TaskManager, 30 s
    without Elasticsearch): catching up on two TaskManagers, one partition can carry the watermark
    past the other's backlog, which would then count as late instead of in its window's total."""
    with running_pipeline(job_env={"LOGFLOW_OUT_OF_ORDERNESS_SECONDS": "90"}) as instance:
        yield instance


def _assert_exactly_once(pipeline: Pipeline, ids: list[str]) -> None:
    assert len(set(ids)) == len(ids)
    documents = pipeline.await_documents(ids, timeout_s=300)
    assert set(documents) == set(ids)
    # Every document of this module's pipeline is one of the produced ones: no duplicates under
    # other ids, nothing extra.
    assert pipeline.count() == pipeline.produced
    pipeline.await_windows_settled(timeout_s=180)


def test_taskmanager_killed_mid_stream(pipeline: Pipeline) -> None:
    thread, ids = produce_in_background(pipeline, syslog_lines("crash", 3000), chunks=30, pause_s=0.5)
    wait_for("the job to have indexed part of the stream", lambda: pipeline.count() >= 300, 120, 0.5)

    os.kill(taskmanager_pid(1), signal.SIGKILL)
    time.sleep(2)
    stack("up", "--only", "flink-taskmanager")
    thread.join(300)
    assert not thread.is_alive()
    pipeline.wait_job_running(300)

    _assert_exactly_once(pipeline, ids)


def test_elasticsearch_down_for_30_seconds(pipeline: Pipeline) -> None:
    stack("down", "--only", "elasticsearch")
    try:
        outage_started = time.monotonic()
        thread, ids = produce_in_background(pipeline, syslog_lines("outage", 600), chunks=30, pause_s=1.0)
        thread.join(120)
        time.sleep(max(0.0, 30 - (time.monotonic() - outage_started)))
    finally:
        stack("up", "--only", "elasticsearch")
    assert pipeline.job_state() == "RUNNING"
    _assert_exactly_once(pipeline, ids)
