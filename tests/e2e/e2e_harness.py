"""A private pipeline for end-to-end tests: its own topics, rules API, job, indices and Redis keys.

Everything is named with one unique suffix, so a run never touches the stack's own `logs` topic,
`logflow.rules`, `logs-*` indices or `logflow:stats` keys, and two runs never see each other.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from common.schema.alert import records_indices
from common.schema.stats import StatsKeys, WindowStats
from common.settings import REPO_ROOT, ElasticsearchSettings, KafkaSettings, RedisSettings, flink_rest_url
from deploy.stack import taskmanagers
from deploy.stack.layout import StackLayout
from jobs.control.flink_rest import FlinkRest
from jobs.sinks.redis_stats import connect, read_windows

LOGFLOW = str(Path(sys.executable).parent / "logflow")


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, interval_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what} (last: {last!r})")


def await_rule_in_force(
    pipeline: Pipeline, text: str, in_force: Callable[[dict[str, Any]], bool], timeout_s: float = 90
) -> float:
    """Produce probe lines holding ``text``, one a second, until one is indexed with a ``_source``
    that ``in_force`` accepts; the seconds that took.

    Any probe of this call counts: a line waits in the multi-line joiner until the next line of its
    stream (or the flush timeout), so the newest probe is often indexed only once the next is sent.
    """
    started = time.monotonic()
    nonce = time.time_ns()
    attempt = 0

    def probe() -> bool:
        nonlocal attempt
        attempt += 1
        pipeline.produce([f"Nov 22 10:00:00 probe app[1]: {text} probe-{nonce}-{attempt}"])
        time.sleep(1.0)
        hits = pipeline.search({"match_phrase": {"message": f"{text} probe-{nonce}"}})
        return any(in_force(hit["_source"]) for hit in hits)

    wait_for(f"a rule change to take effect on probes of {text!r}", probe, timeout_s, 0.0)
    return time.monotonic() - started


def taskmanager_pid(index: int = 1) -> int:
    """The pid of the stack's TaskManager ``index`` from its pid file (old single-TM name too)."""
    pid = taskmanagers.pid(StackLayout.from_env(), index)
    assert pid is not None, f"no pid file for TaskManager {index} under {StackLayout.from_env().run}"
    return pid


def stack(*args: str, **env: str) -> None:
    """Run `logflow stack ...` (with extra environment, e.g. LOGFLOW_TASKMANAGERS) and check it worked."""
    result = subprocess.run(
        [LOGFLOW, "stack", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"logflow stack {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


def syslog_lines(tag: str, count: int) -> list[str]:
    return [
        f"Nov 22 10:{i // 60 % 60:02d}:{i % 60:02d} node-{i % 4} worker[{i}]: {tag} event {i}"
        for i in range(count)
    ]


def produce_in_background(
    pipeline: Pipeline, lines: list[str], chunks: int, pause_s: float
) -> tuple[threading.Thread, list[str]]:
    """Produce ``lines`` in ``chunks`` with a pause after each; the ids fill in as they are sent."""
    ids: list[str] = []
    size = max(1, len(lines) // chunks)

    def run() -> None:
        for start in range(0, len(lines), size):
            ids.extend(pipeline.produce(lines[start : start + size]))
            time.sleep(pause_s)

    thread = threading.Thread(target=run, name="e2e-producer")
    thread.start()
    return thread, ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_pipeline(job_env: dict[str, str] | None = None) -> Iterator[Pipeline]:
    """A started private pipeline with a fresh suffix, stopped when the block ends (even when its
    start failed half-way: whatever it created is removed)."""
    instance = Pipeline(suffix=uuid.uuid4().hex[:10], job_env=dict(job_env or {}))
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()


@dataclass
class Pipeline:
    suffix: str
    window_seconds: int = 10
    env: dict[str, str] = field(default_factory=dict)
    api_url: str = ""
    api_token: str = ""
    job_id: str = ""
    produced: int = 0
    # Kafka timestamp (ms) of every message produced, to know what each window must count.
    produced_timestamps: list[int] = field(default_factory=list)
    # An existing topic for the job to read instead of a private one: neither created nor deleted here.
    input_topic: str = ""
    # Job settings applied over the harness's short test ones ("" restores the job's default).
    job_env: dict[str, str] = field(default_factory=dict)
    # Rules created through the API before the job is submitted: the job reads the rules topic from
    # the beginning, so they are in force from its first batches on, not from a moment that races
    # the input.
    initial_rules: list[dict[str, Any]] = field(default_factory=list)
    _api_process: subprocess.Popen[bytes] | None = None

    @property
    def logs_topic(self) -> str:
        return self.input_topic or f"e2e-logs-{self.suffix}"

    @property
    def rules_topic(self) -> str:
        return f"e2e-rules-{self.suffix}"

    @property
    def alerts_topic(self) -> str:
        return f"e2e-alerts-{self.suffix}"

    @property
    def deadletter_topic(self) -> str:
        return f"e2e-dlq-{self.suffix}"

    @property
    def index_prefix(self) -> str:
        return f"e2e-{self.suffix}"

    @property
    def stats_prefix(self) -> str:
        return f"logflow:e2e:{self.suffix}"

    @property
    def job_name(self) -> str:
        return f"logflow-e2e-{self.suffix}"

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.env = {
            **os.environ,
            "LOGFLOW_LOG_TOPICS": self.logs_topic,
            "LOGFLOW_RULES_TOPIC": self.rules_topic,
            "LOGFLOW_ALERTS_TOPIC": self.alerts_topic,
            "LOGFLOW_DEADLETTER_TOPIC": self.deadletter_topic,
            "LOGFLOW_INDEX_PREFIX": self.index_prefix,
            "LOGFLOW_STATS_PREFIX": self.stats_prefix,
            "LOGFLOW_JOB_NAME": self.job_name,
            "LOGFLOW_CONSUMER_GROUP": f"e2e-{self.suffix}",
            "LOGFLOW_WINDOW_SECONDS": str(self.window_seconds),
            "LOGFLOW_OUT_OF_ORDERNESS_SECONDS": "2",
            "LOGFLOW_IDLE_CLOSE_SECONDS": "3",
            "LOGFLOW_CHECKPOINT_INTERVAL_MS": "2000",
            "LOGFLOW_API_REDIS_PREFIX": f"logflow:e2e-api:{self.suffix}",
            **self.job_env,
        }
        try:
            self._create_topics()
            self._start_api()
            for rule in self.initial_rules:
                response = self.api("POST", "/rules", json=rule)
                assert response.status_code == 201, response.text
            self._submit_job()
        except BaseException:
            self.stop()  # no topics, API process or job left behind by a start that failed
            raise

    def stop(self) -> None:
        if os.environ.get("LOGFLOW_E2E_KEEP") == "1":
            # For a failure to be looked into afterwards: the job runs on, with its data.
            print(f"e2e teardown skipped (LOGFLOW_E2E_KEEP=1): job {self.job_id}, prefix {self.index_prefix}")
            return
        rest = FlinkRest(flink_rest_url())
        try:
            if self.job_id:
                try:
                    rest.cancel(self.job_id)
                    rest.wait_terminal(self.job_id, 60)
                except Exception as exc:  # teardown goes on; the report shows what was left
                    print(f"e2e teardown: could not cancel {self.job_id}: {exc}", file=sys.stderr)
        finally:
            rest.close()
        if self._api_process is not None and self._api_process.poll() is None:
            os.killpg(self._api_process.pid, signal.SIGTERM)
            try:
                self._api_process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self._api_process.pid, signal.SIGKILL)
        self._cleanup_data()

    def _create_topics(self) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient(dict(KafkaSettings.from_env().client_config()))
        topics = [
            NewTopic(self.rules_topic, 1, 1, config={"cleanup.policy": "compact"}),
            NewTopic(self.alerts_topic, 1, 1),
            NewTopic(self.deadletter_topic, 1, 1),
        ]
        if not self.input_topic:
            topics.append(NewTopic(self.logs_topic, 2, 1))
        futures = admin.create_topics(topics)
        for future in futures.values():
            future.result(30)

    def _start_api(self) -> None:
        port = free_port()
        self.api_token = secrets.token_urlsafe(24)
        digest = hashlib.sha256(self.api_token.encode()).hexdigest()
        self.env["LOGFLOW_API_TOKENS"] = f"e2e:admin:{digest}"
        self.env.pop("LOGFLOW_API_TOKENS_FILE", None)
        self.api_url = f"http://127.0.0.1:{port}"
        log_dir = REPO_ROOT / ".logflow" / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)  # a fresh clone has no .logflow yet
        log = open(log_dir / f"e2e-api-{self.suffix}.log", "wb")  # noqa: SIM115
        self._api_process = subprocess.Popen(
            [LOGFLOW, "api", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready() -> bool:
            try:
                return httpx.get(f"{self.api_url}/readyz", headers=self.auth, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("the e2e rules API to be ready", ready, 60)

    def _submit_job(self) -> None:
        result = subprocess.run(
            [LOGFLOW, "job", "submit", "--timeout", "300"],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"job submit failed:\n{result.stdout}\n{result.stderr}"
        rest = FlinkRest(flink_rest_url())
        try:
            job = rest.active_job(self.job_name)
        finally:
            rest.close()
        assert job is not None, "submitted job is not active"
        self.job_id = job.job_id

    def _cleanup_data(self) -> None:
        es = self.es()
        try:
            es.options(ignore_status=404).indices.delete(index=f"{self.index_prefix}-*")
            es.options(ignore_status=404).indices.delete_index_template(name=f"{self.index_prefix}-logflow")
        finally:
            es.close()
        client = connect(RedisSettings.from_env())
        try:
            for pattern in (f"{self.stats_prefix}:*", f"logflow:e2e-api:{self.suffix}:*"):
                keys = list(client.scan_iter(match=pattern, count=1000))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(dict(KafkaSettings.from_env().client_config()))
        private = [self.rules_topic, self.alerts_topic, self.deadletter_topic]
        topics = private if self.input_topic else [self.logs_topic, *private]
        # Waited for: a client dropped with its requests in flight never sends them, which left
        # every run's topics behind.
        for topic, future in admin.delete_topics(topics, operation_timeout=30).items():
            try:
                future.result(60)
            except Exception as exc:  # teardown goes on; say what was left
                print(f"e2e teardown: could not delete topic {topic}: {exc}", file=sys.stderr)

    # ---- driving it ------------------------------------------------------------------------

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token}"}

    def api(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.api_url}/api/v1{path}",
            headers={**self.auth, **(headers or {})},
            timeout=30,
            **kwargs,
        )

    def produce(
        self,
        lines: Iterable[bytes | str],
        records_per_message: int | Sequence[int] = 1,
        partition: int | None = None,
    ) -> list[str]:
        """Send one message per line (to ``partition``, or where the producer puts it); returns each
        message's Kafka position, in order.

        That position is the document id of a message that gives one record. A message that fans
        out (an OTLP request) gives ``records_per_message`` records, each counted in the windows and
        indexed as ``position:index``. Per message (a sequence): the lines of a multi-line event
        give one record together, counted at its first line, so its first line counts 1 and the
        others 0.
        """
        from confluent_kafka import Producer

        values = [line.encode() if isinstance(line, str) else line for line in lines]
        counts = (
            [records_per_message] * len(values)
            if isinstance(records_per_message, int)
            else list(records_per_message)
        )
        assert len(counts) == len(values), "one record count per message"
        producer = Producer(
            {
                **KafkaSettings.from_env().client_config(),
                "enable.idempotence": True,
                "acks": "all",
                "message.max.bytes": 16 * 1024 * 1024,
            }
        )
        positions: dict[int, str] = {}
        stamps: dict[int, int] = {}

        def delivered(err: Any, message: Any, slot: int) -> None:
            assert err is None, f"delivery failed: {err}"
            positions[slot] = f"{message.topic()}:{message.partition()}:{message.offset()}"
            stamps[slot] = message.timestamp()[1]

        # -1: the producer's partitioner decides (confluent_kafka's default).
        where = -1 if partition is None else partition
        for slot, value in enumerate(values):
            while True:
                try:
                    producer.produce(
                        self.logs_topic,
                        value=value,
                        partition=where,
                        on_delivery=functools.partial(delivered, slot=slot),
                    )
                    break
                except BufferError:
                    producer.poll(0.1)
        assert producer.flush(60) == 0, "not every message was delivered"
        self.produced += sum(counts)
        self.produced_timestamps.extend(
            stamps[slot] for slot in range(len(values)) for _ in range(counts[slot])
        )
        return [positions[slot] for slot in range(len(values))]

    def expected_window_totals(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for stamp in self.produced_timestamps:
            start = stamp // 1000 // self.window_seconds * self.window_seconds
            counts[start] = counts.get(start, 0) + 1
        return counts

    def window_report(self) -> str:
        actual = {w.start: (w.total, w.late) for w in self.windows()}
        expected = self.expected_window_totals()
        rows = []
        for start in sorted(set(actual) | set(expected)):
            total, late = actual.get(start, (0, 0))
            if total != expected.get(start, 0) or late:
                rows.append(f"{start}: expected {expected.get(start, 0)}, total {total}, late {late}")
        return "; ".join(rows) or "every window matches"

    def await_windows_settled(self, timeout_s: float = 120) -> list[WindowStats]:
        """Wait until the windows count every message produced so far; no more, no fewer."""
        wait_for(
            f"window totals to reach {self.produced}",
            lambda: self.window_total() >= self.produced,
            timeout_s,
            1.0,
        )
        time.sleep(self.window_seconds / 2)  # a rewrite in flight would show up now
        windows = self.windows()
        assert sum(w.total for w in windows) == self.produced
        return windows

    def documents(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The indexed documents among these ids, by id."""
        hits = self.search({"ids": {"values": ids}}, size=max(len(ids), 1))
        return {hit["_id"]: hit for hit in hits}

    def await_documents(self, ids: list[str], timeout_s: float = 120) -> dict[str, dict[str, Any]]:
        try:
            wait_for(f"{len(ids)} documents", lambda: len(self.documents(ids)) >= len(ids), timeout_s, 1.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {self.missing_report(ids)}") from None
        return self.documents(ids)

    def missing_report(self, ids: list[str]) -> str:
        """Which of ``ids`` are not indexed, per partition, and what the dead-letter topic holds: what
        tells a lost event from a late, stuck or rejected one."""
        found = self.documents(ids)
        missing: dict[str, list[int]] = {}
        for document_id in ids:
            if document_id not in found:
                _topic, partition, offset, *_index = document_id.split(":")  # topics hold no ':'
                missing.setdefault(partition, []).append(int(offset))
        produced: dict[str, list[int]] = {}
        for document_id in ids:
            _topic, partition, offset, *_index = document_id.split(":")
            produced.setdefault(partition, []).append(int(offset))
        parts = [
            f"partition {p}: {len(offs)} of {len(produced[p])} missing, offsets {offs[:5]}...{offs[-3:]}"
            f" (produced {min(produced[p])}-{max(produced[p])})"
            for p, offs in sorted(missing.items())
        ]
        dead = self.consume(self.deadletter_topic, 1_000_000, timeout_s=5)
        reasons = sorted({str(d.get("reason", d.get("error", "?")))[:80] for d in dead})
        return (
            f"found {len(found)} of {len(ids)}; {'; '.join(parts)}; dead letters: {len(dead)} {reasons[:3]}"
        )

    def es(self) -> Any:
        from elasticsearch import Elasticsearch

        return Elasticsearch(**ElasticsearchSettings.from_env().client_kwargs(), request_timeout=60)

    def search(self, query: dict[str, Any], size: int = 10_000, dataset: str = "*") -> list[dict[str, Any]]:
        result = self._read_indices(
            lambda es: es.options(ignore_status=404).search(
                index=f"{self.index_prefix}-{dataset}", query=query, size=size, sort=["_doc"]
            )
        )
        return list(result.get("hits", {}).get("hits", []))

    def count(self, query: dict[str, Any] | None = None, dataset: str = "*") -> int:
        """Documents of this pipeline's indices; with every dataset (``*``), records only: the
        alerts the job indexes beside them (rules' and new error groups') are not records."""
        index = records_indices(self.index_prefix) if dataset == "*" else f"{self.index_prefix}-{dataset}"
        result = self._read_indices(
            lambda es: es.options(ignore_status=404).count(index=index, query=query or {"match_all": {}})
        )
        return int(result.get("count", 0))

    def _read_indices(self, read: Callable[[Any], Any], timeout_s: float = 60) -> Any:
        """Refresh this run's indices and read them, waiting out primaries that are still starting.

        The job's first bulk request to a dataset creates its index. Until that index's primary
        shard is active, a search that reaches it fails on every shard with 503; that means
        "not there yet", as a 404 does before the index exists, so wait for the shard and retry.
        """
        from elasticsearch import ApiError

        pattern = f"{self.index_prefix}-*"
        deadline = time.monotonic() + timeout_s
        es = self.es()
        try:
            while True:
                try:
                    es.options(ignore_status=404).indices.refresh(index=pattern)
                    return read(es)
                except ApiError as error:
                    if error.meta.status != 503 or time.monotonic() > deadline:
                        raise
                es.options(ignore_status=[404, 408]).cluster.health(
                    index=pattern, wait_for_status="yellow", timeout="5s"
                )
        finally:
            es.close()

    def windows(self, since_epoch: int = 0) -> list[WindowStats]:
        client = connect(RedisSettings.from_env())
        try:
            return read_windows(client, StatsKeys(self.stats_prefix, self.window_seconds), since_epoch)
        finally:
            client.close()

    def window_total(self) -> int:
        return sum(w.total for w in self.windows())

    def consume(self, topic: str, expected: int, timeout_s: float = 60) -> list[dict[str, Any]]:
        from confluent_kafka import Consumer

        consumer = Consumer(
            {
                **KafkaSettings.from_env().client_config(),
                "group.id": f"e2e-reader-{self.suffix}-{time.monotonic_ns()}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([topic])
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        try:
            while len(messages) < expected and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None or message.error():
                    continue
                value = message.value()
                assert value is not None, f"a tombstone on {topic}"
                messages.append(json.loads(value))
        finally:
            consumer.close()
        return messages

    def job_state(self) -> str:
        rest = FlinkRest(flink_rest_url())
        try:
            return str(rest.job_details(self.job_id).get("state"))
        finally:
            rest.close()

    def wait_job_running(self, timeout_s: float = 180) -> None:
        rest = FlinkRest(flink_rest_url())
        try:
            wait_for(
                "the job's tasks to be RUNNING", lambda: rest.all_tasks_running(self.job_id), timeout_s, 1.0
            )
        finally:
            rest.close()
