"""Multi-line events end to end: real traces shipped one line per message over two partitions, among
other streams, each become exactly one document with its first line's id (docs/multiline.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_harness import Pipeline, running_pipeline
from multiline_traffic import (
    GO,
    JAVA,
    PYTHON,
    Traffic,
    filebeat,
    interleave,
    offsets,
    produce_in_chunks,
    vector,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    """This module's pipeline. The flush timeout is 5 s, not 1 s: the test produces each partition in
    chunks with pauses between them, and on a loaded machine a pause (with the producer's round trip)
    can exceed a second, which would rightly cut a trace in two. The out-of-orderness stays above the
    timeout, so that an event completed by the timer is not late in its window."""
    job_env = {"LOGFLOW_MULTILINE_TIMEOUT_MS": "5000", "LOGFLOW_OUT_OF_ORDERNESS_SECONDS": "10"}
    with running_pipeline(job_env=job_env) as instance:
        yield instance


def _partition_0() -> Traffic:
    traffic = Traffic(0)
    java, go, other, bare = Traffic(0), Traffic(0), Traffic(0), Traffic(0)
    java.event("java", [filebeat(line, "web-1", "/var/log/orders/app.log") for line in JAVA])
    go.event("go", [vector(line, "api-1", "/var/log/api/api.log") for line in GO])
    for i in range(25):
        other.single(
            filebeat(
                f"2024-03-02 14:07:{i:02d} INFO [main] o.e.Web : GET /health 200", "web-2", "/var/log/web.log"
            )
        )
        bare.single(f"Nov 22 10:00:{i:02d} node-{i % 3} cron[{i}]: job {i} done")
    traffic.messages = interleave(java.messages, go.messages, other.messages, bare.messages)
    return traffic


def _partition_1() -> Traffic:
    traffic = Traffic(1)
    python, java, other = Traffic(1), Traffic(1), Traffic(1)
    python.event("python", PYTHON)  # bare lines: the partition's one bare stream
    java.event("java", [filebeat(line, "web-3", "/var/log/orders/app.log") for line in JAVA])
    for i in range(30):
        other.single(
            vector(f'2024-03-02T14:08:{i:02d}Z level=info msg="tick {i}"', "api-2", "/var/log/tick.log")
        )
    traffic.messages = interleave(python.messages, java.messages, other.messages)
    return traffic


def test_traces_shipped_line_by_line_over_two_partitions_are_one_document_each(pipeline: Pipeline) -> None:
    before = pipeline.count()
    positions: dict[str, list[str]] = {}
    expected_lines: dict[str, list[str]] = {"0:java": JAVA, "0:go": GO, "1:python": PYTHON, "1:java": JAVA}
    for traffic in (_partition_0(), _partition_1()):
        produced = produce_in_chunks(pipeline, traffic.partition, traffic.messages, chunks=4)
        positions.update({f"{traffic.partition}:{name}": ids for name, ids in produced.items()})

    ids = [event_positions[0] for event_positions in positions.values()]
    documents = pipeline.await_documents(ids)
    assert set(documents) == set(ids)
    # Nothing else: no document for a continuation line, no second copy of anything.
    extra = [
        (hit["_id"], hit["_source"]["message"][:80])
        for hit in pipeline.search({"match_all": {}})
        if hit["_id"] not in documents
    ]
    assert pipeline.count() - before == len(ids), extra

    for name, lines in expected_lines.items():
        event_positions = positions[name]
        assert len(event_positions) == len(lines)
        source = documents[event_positions[0]]["_source"]
        assert source["event"]["id"] == event_positions[0]
        assert source["logflow"]["kafka"]["offset"] == offsets(event_positions)[0]
        assert source["logflow"]["kafka"]["offsets"] == offsets(event_positions)
        assert source["labels"]["multiline_lines"] == str(len(lines))
        assert "multiline_truncated" not in source["labels"]
        message = source["message"]
        assert lines[-1].strip() in message, name
        assert source["error"].get("stack_trace"), name
        assert set(message.splitlines()) >= {line for line in lines[1:] if line.strip()}, name

    java_0 = documents[positions["0:java"][0]]["_source"]
    assert java_0["host"]["name"] == "web-1" and java_0["log"]["file"]["path"] == "/var/log/orders/app.log"
    assert java_0["agent"]["type"] == "filebeat"
    assert java_0["error"]["type"] == "org.springframework.dao.DataIntegrityViolationException"
    java_1 = documents[positions["1:java"][0]]["_source"]
    assert java_1["host"]["name"] == "web-3"
    go = documents[positions["0:go"][0]]["_source"]
    assert go["host"]["name"] == "api-1" and go["agent"]["type"] == "vector"
    assert go["message"].startswith("panic: runtime error")

    # The single lines are what they were before joining existed: one document each, no labels.
    singles = [documents[p[0]]["_source"] for name, p in positions.items() if name not in expected_lines]
    assert len(singles) == 80
    assert all("multiline_lines" not in s.get("labels", {}) for s in singles)
    assert all("offsets" not in s["logflow"]["kafka"] for s in singles)

    # One event, one count: the windows count events, a trace at its first line's timestamp.
    pipeline.await_windows_settled()
