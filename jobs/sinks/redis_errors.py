"""The error groups' sink: the commands of ``common.schema.error_groups`` run against Redis.

``RedisErrorGroupsSink`` is what the error-groups operator opens and writes through. Every write is
one MULTI/EXEC of absolute values taken from the operator's keyed state, so writing again after a
failure sets the same values; the connection is the statistics sink's (``redis_stats.connect``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from common.schema.error_groups import Command, ErrorGroupKeys, expired_query, trim_commands
from common.settings import RedisSettings
from jobs.sinks.redis_stats import connect


class RedisErrorGroupsSink:
    def __init__(self, settings: RedisSettings, keys: ErrorGroupKeys, ttl_seconds: int) -> None:
        self._settings = settings
        self._keys = keys
        self._ttl_seconds = ttl_seconds
        self._client: Any = None

    def open(self) -> None:
        self._client = connect(self._settings)

    def write(self, commands: Sequence[Command]) -> None:
        if not commands:
            return
        pipe = self._client.pipeline(transaction=True)
        for command in commands:
            pipe.execute_command(*command)
        pipe.execute()

    def trim(self, now: float) -> None:
        """Drop the groups whose hashes have expired from both sorted sets."""
        found = self._client.execute_command(*expired_query(self._keys, now, self._ttl_seconds))
        expired = [str(fingerprint) for fingerprint in found]
        self.write(trim_commands(self._keys, now, self._ttl_seconds, expired))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
