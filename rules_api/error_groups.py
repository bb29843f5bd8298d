"""Where the API reads error groups: Redis in service (the job writes them), memory in unit tests.

The key schema and the reply parsing are ``common.schema.error_groups``'s; this module only holds
the connection.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from redis.exceptions import RedisError

from common.errors.settings import ErrorGroupSettings
from common.schema.error_groups import ErrorGroup, ErrorGroupKeys, candidates_query, groups_from_replies
from common.settings import RedisSettings
from rules_api.store.base import StoreUnavailableError


class ErrorGroupSource(ABC):
    def __init__(self, index_prefix: str, es_url: str) -> None:
        # Where the groups' records are searched (the links the API hands out, never followed here).
        self.index_prefix = index_prefix
        self.es_url = es_url

    @abstractmethod
    async def recent(self, since_epoch: float) -> list[ErrorGroup]:
        """The groups last seen at or after ``since`` (any order)."""

    @abstractmethod
    async def get(self, fingerprint: str) -> ErrorGroup | None: ...

    async def close(self) -> None:
        return None


class MemoryErrorGroups(ErrorGroupSource):
    def __init__(
        self, groups: Iterable[ErrorGroup] = (), index_prefix: str = "logs", es_url: str = ""
    ) -> None:
        super().__init__(index_prefix, es_url or "http://127.0.0.1:9200")
        self.groups = {g.fingerprint: g for g in groups}

    async def recent(self, since_epoch: float) -> list[ErrorGroup]:
        return [g for g in self.groups.values() if g.last_seen >= since_epoch]

    async def get(self, fingerprint: str) -> ErrorGroup | None:
        return self.groups.get(fingerprint)


class RedisErrorGroups(ErrorGroupSource):
    def __init__(
        self, redis: RedisSettings, settings: ErrorGroupSettings, es_url: str, timeout_s: float = 3.0
    ):
        import redis.asyncio as aioredis

        super().__init__(settings.index_prefix, es_url)
        self._keys = ErrorGroupKeys(settings.stats_prefix, settings.window_seconds)
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            redis.url,
            decode_responses=True,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            **redis.client_kwargs(),
        )

    async def recent(self, since_epoch: float) -> list[ErrorGroup]:
        try:
            raw = await self._redis.execute_command(*candidates_query(self._keys, since_epoch))
            fingerprints = [str(f) for f in raw]
            if not fingerprints:
                return []
            async with self._redis.pipeline(transaction=False) as pipe:
                for fingerprint in fingerprints:
                    pipe.hgetall(self._keys.group(fingerprint))
                hashes = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"Redis: {exc}") from exc
        return groups_from_replies(fingerprints, hashes)

    async def get(self, fingerprint: str) -> ErrorGroup | None:
        try:
            fields = await self._redis.hgetall(self._keys.group(fingerprint))
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"Redis: {exc}") from exc
        return ErrorGroup.from_hash(fingerprint, fields) if fields else None

    async def close(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]
