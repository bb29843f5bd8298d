"""Joined and fanned-out messages across a TaskManager kill: a trace cut by the crash is still one
document with its first line's id, and an OTLP request still gives exactly its records, once each.

Both TaskManagers are killed (whichever hosts the job's tasks) and brought back before each test ends.
The flush timeout is long here, so that the trace's first half is certainly still pending in keyed
state (and in the checkpoint) when the TaskManagers die, instead of flushed by a timer; with it, the
last line of every stream stays pending too, so each stream ends with a line that is not expected yet.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from e2e_harness import LOGFLOW, Pipeline, running_pipeline, taskmanager_pid, wait_for
from multiline_traffic import (
    GO,
    JAVA,
    Message,
    Traffic,
    filebeat,
    offsets,
    produce_in_chunks,
    vector,
)

from common.settings import flink_rest_url
from deploy.stack import taskmanagers
from deploy.stack.layout import StackLayout

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 600_000


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    with running_pipeline(job_env={"LOGFLOW_MULTILINE_TIMEOUT_MS": str(TIMEOUT_MS)}) as instance:
        yield instance


def _kill_taskmanagers_and_restart(pipeline: Pipeline) -> None:
    layout = StackLayout.from_env()
    indices = sorted(taskmanagers.indices_on_disk(layout)) or [1]
    for index in indices:
        os.kill(taskmanager_pid(index), signal.SIGKILL)
    time.sleep(2)
    env = {**os.environ, "LOGFLOW_TASKMANAGERS": os.environ.get("LOGFLOW_TASKMANAGERS", str(len(indices)))}
    result = subprocess.run(
        [LOGFLOW, "stack", "up", "--only", "flink-taskmanager"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert result.returncode == 0, f"logflow stack up failed:\n{result.stdout}\n{result.stderr}"
    pipeline.wait_job_running(300)


def _await_counted(pipeline: Pipeline) -> None:
    """Every event counted once. A trace counts in its first line's window; when it completed long
    after that line (here: minutes, across the restart), the watermark had passed that window and
    it is counted as late there, as any event that arrives after its window is."""
    wait_for(
        f"the windows to count {pipeline.produced} events",
        lambda: sum(w.total + w.late for w in pipeline.windows()) >= pipeline.produced,
        180,
        1.0,
    )
    time.sleep(pipeline.window_seconds / 2)  # a count in flight would show up now
    assert sum(w.total + w.late for w in pipeline.windows()) == pipeline.produced


def _checkpointed_after(pipeline: Pipeline, started_ms: int) -> bool:
    body = httpx.get(f"{flink_rest_url()}/jobs/{pipeline.job_id}/checkpoints", timeout=10).json()
    latest = (body.get("latest") or {}).get("completed") or {}
    return int(latest.get("trigger_timestamp") or 0) > started_ms


def test_a_trace_cut_by_a_taskmanager_kill_is_one_whole_document(pipeline: Pipeline) -> None:
    java, go, marker = Traffic(0), Traffic(1), Traffic(0)
    java.event("java", [filebeat(line, "web-1", "/var/log/orders/app.log") for line in JAVA])
    go.event("go", GO)  # bare lines on partition 1
    half_java, half_go = len(JAVA) // 2, len(GO) // 2
    # A stream of its own after the first halves: once its first line is indexed, the halves before
    # it in the partition have been processed (and wait in keyed state).
    marker.single(vector("2024-03-02 14:07:40 INFO marker one", "m-1", "/var/log/m.log"))
    marker.single(vector("2024-03-02 14:07:41 INFO marker two", "m-1", "/var/log/m.log"))
    marker.messages[1].starts = False  # pending until the test ends (long timeout): not counted

    first = produce_in_chunks(pipeline, 0, java.messages[:half_java], chunks=2)
    first.update(produce_in_chunks(pipeline, 1, go.messages[:half_go], chunks=2))
    marks = produce_in_chunks(pipeline, 0, marker.messages, chunks=1)
    marker_id = next(iter(marks.values()))[0]
    pipeline.await_documents([marker_id])
    assert pipeline.count({"match_phrase": {"message": "could not execute statement"}}) == 0
    started_ms = int(time.time() * 1000)
    wait_for(
        "a checkpoint with the pending halves", lambda: _checkpointed_after(pipeline, started_ms), 60, 1.0
    )

    _kill_taskmanagers_and_restart(pipeline)

    rest_java = produce_in_chunks(pipeline, 0, java.messages[half_java:], chunks=2)
    rest_go = produce_in_chunks(pipeline, 1, go.messages[half_go:], chunks=2)
    # The lines that complete each trace (they stay pending themselves).
    ends = [
        Message(
            filebeat("2024-03-02 14:07:50 INFO [main] o.e.Web : after", "web-1", "/var/log/orders/app.log"),
            "e",
            False,
        )
    ]
    produce_in_chunks(pipeline, 0, ends, chunks=1)
    produce_in_chunks(
        pipeline, 1, [Message("2024/03/02 14:09:13 supervisor: restarting", "e", False)], chunks=1
    )

    java_positions = first["java"] + rest_java["java"]
    go_positions = first["go"] + rest_go["go"]
    ids = [java_positions[0], go_positions[0]]
    documents = pipeline.await_documents(ids, timeout_s=300)
    for positions, lines in ((java_positions, JAVA), (go_positions, GO)):
        source = documents[positions[0]]["_source"]
        assert source["logflow"]["kafka"]["offsets"] == offsets(positions)
        assert source["labels"]["multiline_lines"] == str(len(lines))
        assert lines[-1].strip() in source["message"]
    # Once, whole: no document for either half, nothing else but the marker.
    assert pipeline.count() == 3
    assert pipeline.count({"match_phrase": {"message": "could not execute statement"}}) == 1
    assert pipeline.count({"match_phrase": {"message": "goroutine"}}) == 1
    _await_counted(pipeline)


def _otlp_request(tag: str, records: int) -> str:
    return json.dumps(
        {
            "resourceLogs": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]
                    },
                    "scopeLogs": [
                        {
                            "scope": {"name": "otel-e2e"},
                            "logRecords": [
                                {
                                    "timeUnixNano": "1795391990000000000",
                                    "severityText": "INFO",
                                    "body": {"stringValue": f"{tag} record {i}"},
                                }
                                for i in range(records)
                            ],
                        }
                    ],
                }
            ]
        }
    )


def test_otlp_requests_across_a_taskmanager_kill_give_exactly_their_records(pipeline: Pipeline) -> None:
    records_query = {"match_phrase": {"message": "record"}}  # only the OTLP records say it here
    before = pipeline.count(records_query)
    records, requests = 3, 120
    produced: list[str] = []

    def run() -> None:
        for start in range(0, requests, 4):
            chunk = [_otlp_request(f"otlp-{i}", records) for i in range(start, start + 4)]
            produced.extend(pipeline.produce(chunk, records_per_message=records))
            time.sleep(0.25)

    thread = threading.Thread(target=run, name="e2e-otlp-producer")
    thread.start()
    wait_for("part of the requests indexed", lambda: pipeline.count(records_query) - before >= 30, 120, 0.5)
    _kill_taskmanagers_and_restart(pipeline)
    thread.join(300)
    assert not thread.is_alive() and len(produced) == requests

    ids = [f"{position}:{index}" for position in produced for index in range(records)]
    documents = pipeline.await_documents(ids, timeout_s=300)
    assert set(documents) == set(ids)
    assert pipeline.count(records_query) - before == len(ids)
    assert pipeline.documents(produced) == {}  # nothing under a bare position
    _await_counted(pipeline)
