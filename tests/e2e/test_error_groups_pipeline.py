"""Error groups end to end on the real stack: variants of three errors become exactly three groups,
counted exactly in Redis, announced once each — also when a TaskManager running the job is killed
mid-stream. Each test has its own private pipeline (see e2e_harness), so each sees only its groups."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from e2e_harness import LOGFLOW, Pipeline, running_pipeline, taskmanager_pid, wait_for

from common.errors.groups import ALERT_RULE_ID, REASON_NEW, REASON_REGRESSION
from common.parsing import ParseOptions, parse_message
from common.schema.alert import error_group_alert_id
from common.schema.error_groups import ErrorGroup, ErrorGroupKeys, window_counts
from common.settings import RedisSettings, flink_rest_url
from deploy.stack import taskmanagers
from deploy.stack.layout import StackLayout
from jobs.sinks.redis_stats import connect

pytestmark = pytest.mark.e2e

QUIET_S = 3600  # the job's regression period in these tests


def _log4j_stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S,") + f"{at.microsecond // 1000:03d}"


def java_error(i: int, at: datetime) -> str:
    """One Java exception: ids, thread, line numbers and JDK frame lines vary, the group does not."""
    return (
        f"{_log4j_stamp(at)} ERROR [http-nio-8080-exec-{i % 9}] com.shop.orders.OrderService: order {1000 + i} failed\n"
        f"java.lang.IllegalStateException: order {1000 + i} has no customer\n"
        f"\tat com.shop.orders.OrderService.validate(OrderService.java:{40 + i % 5})\n"
        f"\tat com.shop.orders.OrderService.process(OrderService.java:{17 + i % 2})\n"
        f"\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:{1136 + i % 3})\n"
        "\tat java.base/java.lang.Thread.run(Thread.java:840)"
    )


def python_error(i: int, at: datetime) -> str:
    """One Python traceback: release directory, line number and key vary."""
    return (
        f"{_log4j_stamp(at)} ERROR [worker-{i % 4}] app.tasks: task {i} failed\n"
        "Traceback (most recent call last):\n"
        f'  File "/srv/app/releases/{20260000 + i % 3}/app/tasks.py", line {50 + i % 7}, in send_mail\n'
        "    user = users[user_id]\n"
        f"KeyError: 'user-{i}'"
    )


def template_error(i: int, at: datetime) -> str:
    """One error without a stack, grouped by its message's template: address, port and time vary."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return (
        f'time={stamp} level=error msg="query failed: dial tcp 10.0.{i % 7}.{i % 250}:5432: connect: '
        f'connection refused after {i * 3}ms" host=db-client-{i % 3}'
    )


def info_line(i: int, at: datetime) -> str:
    return f'time={at.strftime("%Y-%m-%dT%H:%M:%SZ")} level=info msg="order {i} shipped"'


KINDS: dict[str, Callable[[int, datetime], str]] = {
    "java": java_error,
    "python": python_error,
    "template": template_error,
}


def fingerprint(line: str) -> str:
    value = parse_message(line.encode(), ParseOptions()).get("error", {}).get("fingerprint")
    assert isinstance(value, str), line
    return value


@dataclass
class ErrorStream:
    """What was produced: per fingerprint, the count, its Kafka windows and its latest event time."""

    pipeline: Pipeline
    counts: Counter[str] = field(default_factory=Counter)
    windows: dict[int, Counter[str]] = field(default_factory=dict)
    last_seen: dict[str, datetime] = field(default_factory=dict)
    sequence: int = 0

    def lines(self, per_kind: int, noise: int, at: datetime) -> list[str]:
        """Variants of the three errors and some info lines, interleaved, 1 ms of event time apart."""
        lines: list[str] = []
        for _ in range(per_kind):
            for make in KINDS.values():
                lines.append(make(self.sequence, at + timedelta(milliseconds=self.sequence)))
                self.sequence += 1
        lines += [info_line(i, at) for i in range(noise)]
        return lines

    def produce(self, lines: list[str]) -> None:
        self.pipeline.produce(lines)
        stamps = self.pipeline.produced_timestamps[-len(lines) :]
        options = ParseOptions()
        for line, stamp in zip(lines, stamps, strict=True):
            record = parse_message(line.encode(), options)
            found = record.get("error", {}).get("fingerprint")
            if found is None:
                continue
            self.counts[found] += 1
            start = stamp // 1000 // self.pipeline.window_seconds * self.pipeline.window_seconds
            self.windows.setdefault(start, Counter())[found] += 1
            at = datetime.fromisoformat(record["@timestamp"].replace("Z", "+00:00"))
            self.last_seen[found] = max(at, self.last_seen.get(found, at))


def redis_groups(pipeline: Pipeline) -> dict[str, ErrorGroup]:
    keys = ErrorGroupKeys(pipeline.stats_prefix, pipeline.window_seconds)
    client = connect(RedisSettings.from_env())
    try:
        by_count = client.zrange(keys.by_count, 0, -1, withscores=True)
        by_last_seen = dict(client.zrange(keys.by_last_seen, 0, -1, withscores=True))
        groups: dict[str, ErrorGroup] = {}
        for member, score in by_count:
            group = ErrorGroup.from_hash(member, client.hgetall(keys.group(member)))
            assert group is not None, f"group {member} is in the sorted set but has no hash"
            assert group.count == int(score) and by_last_seen[member] == pytest.approx(group.last_seen)
            groups[member] = group
        return groups
    finally:
        client.close()


def redis_windows(pipeline: Pipeline) -> dict[int, Counter[str]]:
    client = connect(RedisSettings.from_env())
    try:
        found: dict[int, Counter[str]] = {}
        for key in client.scan_iter(match=f"{pipeline.stats_prefix}:{pipeline.window_seconds}s:*:error"):
            start = int(key.split(":")[-2])
            found[start] = Counter(window_counts(client.hgetall(key)))
        return found
    finally:
        client.close()


def await_exact_counts(
    pipeline: Pipeline, stream: ErrorStream, timeout_s: float = 180
) -> dict[str, ErrorGroup]:
    seen: dict[str, int] = {}

    def counted() -> bool:
        seen.clear()
        try:
            groups = redis_groups(pipeline)
        except AssertionError:
            # Read mid-write: the sorted sets and the hashes are separate reads, and the job writes
            # them in one MULTI after these began. Consistency is asserted below, once it is quiet.
            return False
        seen.update({f: g.count for f, g in groups.items()})
        return seen == dict(stream.counts)

    try:
        wait_for(f"the groups to count {dict(stream.counts)}", counted, timeout_s, 1.0)
    except AssertionError as timed_out:
        raise AssertionError(f"{timed_out}; Redis counts: {seen}") from None
    time.sleep(3)  # a write still in flight would overshoot now
    groups = redis_groups(pipeline)
    assert {f: g.count for f, g in groups.items()} == dict(stream.counts)
    wait_for("the window counts", lambda: redis_windows(pipeline) == stream.windows, 60, 1.0)
    return groups


def alert_documents(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    hits = pipeline.search({"term": {"rule.id": ALERT_RULE_ID}}, dataset="logflow.alert-*")
    assert len({hit["_id"] for hit in hits}) == len(hits), "two alert documents share an id"
    return {hit["_id"]: hit["_source"] for hit in hits}


def topic_alerts(pipeline: Pipeline) -> list[dict[str, Any]]:
    """Every alert on the alerts topic (it is at least once: a replay may repeat one)."""
    return [
        alert
        for alert in pipeline.consume(pipeline.alerts_topic, expected=10_000, timeout_s=15)
        if alert.get("rule", {}).get("id") == ALERT_RULE_ID
    ]


def check_readers(pipeline: Pipeline, groups: dict[str, ErrorGroup]) -> None:
    """`logflow errors` and GET /api/v1/errors read back exactly what the job wrote."""
    printed = subprocess.run(
        [LOGFLOW, "errors", "--since", "7d", "--order", "count", "--json"],
        env=pipeline.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    expected = sorted(((g.fingerprint, g.count) for g in groups.values()), key=lambda fc: (-fc[1], fc[0]))
    cli = json.loads(printed.stdout)["groups"]
    assert sorted(((g["fingerprint"], g["count"]) for g in cli), key=lambda fc: (-fc[1], fc[0])) == expected
    response = pipeline.api("GET", "/errors", params={"since": "7d", "order": "count"})
    assert response.status_code == 200, response.text
    api = response.json()["groups"]
    assert {g["fingerprint"]: g["count"] for g in api} == dict(expected)
    for printed_group in cli:
        one = pipeline.api("GET", f"/errors/{printed_group['fingerprint']}").json()
        assert one["sample"] == printed_group["sample"] and one["count"] == printed_group["count"]
        stored = groups[printed_group["fingerprint"]]
        assert printed_group["sample"]["message"] == stored.message


@pytest.fixture
def pipeline() -> Iterator[Pipeline]:
    """A private pipeline per test: each test's "exactly three groups" is about its own groups only."""
    # Disorder above the TaskManager test's outage (at most 99 s: the source's INTERVAL has two
    # digits), so a partition catching up ahead of the other cannot make the other's backlog late
    # (late records count in no window).
    job_env = {"LOGFLOW_ERRORS_REGRESSION_SECONDS": str(QUIET_S), "LOGFLOW_OUT_OF_ORDERNESS_SECONDS": "90"}
    with running_pipeline(job_env=job_env) as instance:
        yield instance


def test_variants_of_three_errors_make_three_groups_counted_exactly_and_announced_once(
    pipeline: Pipeline,
) -> None:
    stream = ErrorStream(pipeline)
    now = datetime.now(UTC)
    stream.produce(stream.lines(per_kind=40, noise=30, at=now))
    stream.produce(stream.lines(per_kind=25, noise=10, at=now + timedelta(seconds=30)))
    assert len(stream.counts) == 3 and set(stream.counts.values()) == {65}

    groups = await_exact_counts(pipeline, stream)
    java = fingerprint(java_error(0, now))
    assert groups[java].type == "java.lang.IllegalStateException"
    assert groups[java].message.startswith("order 1000 failed\njava.lang.IllegalStateException")
    template = fingerprint(template_error(0, now))
    assert (
        groups[template].template
        == "query failed: dial tcp <ip>:<port>: connect: connection refused after <num>"
    )
    assert groups[template].dataset == "logfmt"
    for found in groups.values():
        assert found.last_seen == pytest.approx(stream.last_seen[found.fingerprint].timestamp())

    new_ids = {error_group_alert_id(f, None): f for f in stream.counts}
    wait_for("one new-group alert per group", lambda: set(alert_documents(pipeline)) == set(new_ids), 60, 1.0)
    for alert_id, alert in alert_documents(pipeline).items():
        assert alert["event"]["reason"] == REASON_NEW and alert["error"]["fingerprint"] == new_ids[alert_id]
        assert alert["event"]["severity"] == 73 and alert["alert"]["severity"] == "high"  # ECS: a number
        assert alert["event"]["kind"] == "alert" and alert["event"]["id"] == alert_id
    published = topic_alerts(pipeline)
    assert sorted(a["event"]["id"] for a in published) == sorted(new_ids)  # no failure here: each once
    check_readers(pipeline, groups)

    # The Java error comes back after more than the quiet period (event time): a regression.
    quiet_since = stream.last_seen[java]
    stream.produce([java_error(9999, quiet_since + timedelta(seconds=QUIET_S + 60))])
    regression_id = error_group_alert_id(java, quiet_since.timestamp())
    wait_for("the regression alert", lambda: regression_id in alert_documents(pipeline), 60, 1.0)
    regression = alert_documents(pipeline)[regression_id]
    assert regression["event"]["reason"] == REASON_REGRESSION and regression["event"]["severity"] == 47
    assert regression["alert"]["count"] == 66
    assert len(alert_documents(pipeline)) == 4
    await_exact_counts(pipeline, stream)


def _taskmanagers_running(job_id: str) -> list[int]:
    """The numbers of the local TaskManagers that hold a task of the job."""
    with httpx.Client(base_url=flink_rest_url(), timeout=10) as rest:
        vertices = rest.get(f"/jobs/{job_id}").json()["vertices"]
        resource_ids = {
            tm["taskmanager-id"]
            for vertex in vertices
            for tm in rest.get(f"/jobs/{job_id}/vertices/{vertex['id']}/taskmanagers").json()["taskmanagers"]
        }
    layout = StackLayout.from_env()
    running = [
        index
        for index in sorted(taskmanagers.indices_on_disk(layout))
        if taskmanagers.id_file(layout, index).exists()
        and taskmanagers.id_file(layout, index).read_text().strip() in resource_ids
    ]
    assert running, f"none of the local TaskManagers runs the job ({resource_ids})"
    return running


def _stack_up_taskmanagers() -> None:
    env = {**os.environ, "LOGFLOW_TASKMANAGERS": os.environ.get("LOGFLOW_TASKMANAGERS", "2")}
    result = subprocess.run(
        [LOGFLOW, "stack", "up", "--only", "flink-taskmanager"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"logflow stack up failed:\n{result.stdout}\n{result.stderr}"


def test_a_taskmanager_killed_mid_stream_leaves_exact_counts_and_no_duplicate_alert(
    pipeline: Pipeline,
) -> None:
    stream = ErrorStream(pipeline)
    now = datetime.now(UTC)
    chunks = [stream.lines(per_kind=10, noise=5, at=now + timedelta(seconds=i)) for i in range(30)]

    def produce_all() -> None:
        for chunk in chunks:
            stream.produce(chunk)
            time.sleep(0.5)

    producer = threading.Thread(target=produce_all, name="e2e-error-producer")
    producer.start()
    try:
        wait_for(
            "the job to have counted part of the stream",
            lambda: sum(g.count for g in redis_groups(pipeline).values()) >= 60,
            120,
            0.5,
        )
        killed = _taskmanagers_running(pipeline.job_id)
        for index in killed:
            os.kill(taskmanager_pid(index), signal.SIGKILL)
        time.sleep(2)
    finally:
        _stack_up_taskmanagers()  # whatever happened above, the stack gets its TaskManagers back
        producer.join(300)
    assert not producer.is_alive()
    pipeline.wait_job_running(300)
    with httpx.Client(base_url=flink_rest_url(), timeout=10) as rest:
        failures = rest.get(f"/jobs/{pipeline.job_id}/exceptions").json()["exceptionHistory"]["entries"]
        restored = rest.get(f"/jobs/{pipeline.job_id}/checkpoints").json()["counts"]["restored"]
    assert failures, "the job never noticed the TaskManager die"

    assert len(stream.counts) == 3 and set(stream.counts.values()) == {300}
    groups = await_exact_counts(pipeline, stream, timeout_s=300)
    new_ids = {error_group_alert_id(f, None) for f in stream.counts}
    assert set(alert_documents(pipeline)) == new_ids  # one per group, none doubled by the replay
    published = Counter(a["event"]["id"] for a in topic_alerts(pipeline))
    assert set(published) == new_ids  # the topic may repeat one (at least once), never invent one
    print(
        f"killed TaskManagers {killed}, restored {restored} checkpoint(s); alerts on the topic: {dict(published)}"
    )
    check_readers(pipeline, groups)
