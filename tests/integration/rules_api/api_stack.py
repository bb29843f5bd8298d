"""Real Redis and Kafka behind real `logflow api serve` processes, isolated per test run.

Each run gets its own rules topic and Redis key prefix (through the API's own settings variables),
so the tests never touch the local stack's `logflow.rules` data; both are removed afterwards.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.settings import KafkaSettings, RedisSettings
from rules_api.security import hash_token

REPO = Path(__file__).resolve().parents[3]
LOGFLOW = str(Path(sys.executable).with_name("logflow"))

SSH_RULE: dict[str, Any] = {
    "id": "ssh-invalid-user",
    "description": "SSH logins for unknown users",
    "enabled": True,
    "priority": 10,
    "when": {
        "all": [
            {"field": "process.name", "op": "eq", "value": "sshd"},
            {"field": "message", "op": "matches", "value": "^Invalid user "},
        ]
    },
    "then": [{"action": "tag", "value": "ssh-invalid-user"}],
}


def make_rule(rule_id: str, **changes: Any) -> dict[str, Any]:
    rule = copy.deepcopy(SSH_RULE)
    rule["id"] = rule_id
    rule.update(changes)
    return rule


def _kafka_conf() -> dict[str, Any]:
    return dict(KafkaSettings.from_env().client_config())


def _stack_problem() -> str | None:
    import redis
    from confluent_kafka.admin import AdminClient

    try:
        redis.Redis.from_url(
            RedisSettings.from_env().url, socket_timeout=2, **RedisSettings.from_env().client_kwargs()
        ).ping()
    except Exception as exc:
        return f"Redis is not reachable ({exc}); start the stack with `logflow stack up`"
    try:
        AdminClient(_kafka_conf()).list_topics(timeout=5)
    except Exception as exc:
        return f"Kafka is not reachable ({exc}); start the stack with `logflow stack up`"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Isolation:
    run_id: str
    topic: str
    redis_prefix: str
    tokens: dict[str, str]

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "LOGFLOW_API_TOKENS": ",".join(
                    f"{r}-user:{r}:{hash_token(t)}" for r, t in self.tokens.items()
                ),
                "LOGFLOW_RULES_TOPIC": self.topic,
                "LOGFLOW_API_REDIS_PREFIX": self.redis_prefix,
                "LOGFLOW_API_RECONCILE_INTERVAL_S": "1",
                "LOGFLOW_API_PUBLISH_TIMEOUT_S": "5",
            }
        )
        env.pop("LOGFLOW_API_TOKENS_FILE", None)
        env.update(overrides)
        return env

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="session")
def isolation() -> Iterator[Isolation]:
    problem = _stack_problem()
    if problem:
        pytest.skip(problem)
    run_id = uuid.uuid4().hex[:10]
    iso = Isolation(
        run_id=run_id,
        topic=f"logflow.rules.test-{run_id}",
        redis_prefix=f"logflow:test-{run_id}:",
        tokens={role: secrets.token_urlsafe(24) for role in ("viewer", "editor", "admin")},
    )
    yield iso
    import redis
    from confluent_kafka.admin import AdminClient

    client = redis.Redis.from_url(RedisSettings.from_env().url, **RedisSettings.from_env().client_kwargs())
    for key in client.scan_iter(match=f"{iso.redis_prefix}*", count=500):
        client.delete(key)
    AdminClient(_kafka_conf()).delete_topics([iso.topic], operation_timeout=10)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@dataclass
class ServerFactory:
    isolation: Isolation
    tmp: Path
    started: list[Server] = field(default_factory=list)

    def start(self, wait_ready: bool = True, **env: str) -> Server:
        port = _free_port()
        log_path = self.tmp / f"api-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    LOGFLOW,
                    "api",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                env=self.isolation.env(**env),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log_path)
        self.started.append(server)
        deadline = time.monotonic() + 60
        path = "/readyz" if wait_ready else "/healthz"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"API exited early:\n{log_path.read_text()}")
            try:
                if (
                    httpx.get(server.url + path, headers=self.isolation.auth("viewer"), timeout=5).status_code
                    == 200
                ):
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"API did not become ready:\n{log_path.read_text()}")

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture(scope="session")
def servers(isolation: Isolation, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    factory = ServerFactory(isolation, tmp_path_factory.mktemp("rules-api"))
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def server(servers: ServerFactory) -> Server:
    return servers.start()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Rule ids unique to one test, so tests sharing a server never see each other's rules."""
    suffix = uuid.uuid4().hex[:8]
    return lambda name: f"{name}-{suffix}"


def consume_topic(topic: str, timeout_s: float = 15.0) -> list[tuple[str, Any]]:
    """Every record on the topic from the beginning, as (key, decoded JSON value or None)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {
            **KafkaSettings.from_env().client_config(),
            "group.id": f"rules-api-test-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, low)])
        records: list[tuple[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        position = low
        while position < high and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            position = (message.offset() or 0) + 1
            value = message.value()
            key = message.key() or b""
            records.append((key.decode(), None if value is None else json.loads(value)))
        return records
    finally:
        consumer.close()


def last_record(records: list[tuple[str, Any]], key: str) -> Any:
    values = [value for k, value in records if k == key]
    assert values, f"no record for {key}"
    return values[-1]
