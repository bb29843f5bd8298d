from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rules_api.main import create_app
from rules_api.publisher import Publisher, PublishError
from rules_api.security import hash_token
from rules_api.settings import ApiSettings
from rules_api.store.memory import MemoryRuleStore


class RecordingPublisher(Publisher):
    def __init__(self) -> None:
        self.records: list[tuple[str, Any]] = []
        self.down = False
        self.topic_created = 0

    async def publish(self, key: str, value: bytes | None) -> None:
        if self.down:
            raise PublishError("Kafka did not confirm the write: broker transport failure")
        self.records.append((key, None if value is None else json.loads(value)))

    async def ensure_topic(self) -> None:
        if self.down:
            raise PublishError("Kafka is unreachable")
        self.topic_created += 1

    async def check(self) -> None:
        if self.down:
            raise PublishError("Kafka is unreachable")

    def last(self, key: str) -> Any:
        values = [v for k, v in self.records if k == key]
        assert values, f"nothing published for {key}"
        return values[-1]


TOKENS = {"viewer": "view-secret-1", "editor": "edit-secret-2", "admin": "admin-secret-3"}

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
    "then": [
        {
            "action": "extract",
            "field": "message",
            "pattern": "^Invalid user (?P<user>\\S+) from (?P<ip>\\S+)",
            "into": {"user": "user.name", "ip": "source.ip"},
        },
        {"action": "tag", "value": "ssh-invalid-user"},
    ],
}


def make_rule(rule_id: str, **changes: Any) -> dict[str, Any]:
    rule = copy.deepcopy(SSH_RULE)
    rule["id"] = rule_id
    rule.update(changes)
    return rule


@dataclass
class Harness:
    client: TestClient
    store: MemoryRuleStore
    publisher: RecordingPublisher

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKENS[role]}"}


def settings_for_tests(**overrides: Any) -> ApiSettings:
    entries = tuple(f"{role}-user:{role}:{hash_token(token)}" for role, token in TOKENS.items())
    values: dict[str, Any] = {"token_entries": entries, "reconcile_interval_s": 3600.0}
    values.update(overrides)
    return ApiSettings(**values)


@pytest.fixture
def harness() -> Iterator[Harness]:
    store = MemoryRuleStore()
    publisher = RecordingPublisher()
    app = create_app(settings_for_tests(max_rules=5), store=store, publisher=publisher)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(client, store, publisher)
