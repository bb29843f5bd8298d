"""Publishing rule changes to the compacted rules topic, and waiting for Kafka to confirm them.

The producer is idempotent with ``acks=all``: a retried send never duplicates or reorders, and a
delivery report only arrives once every in-sync replica has the record. One background thread
serves delivery reports, so many requests can wait for their own confirmation concurrently.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import logging
import threading
from typing import Any

from common.settings import KafkaSettings

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """Kafka did not confirm the write; the outbox reconciler will retry it."""


class Publisher(abc.ABC):
    @abc.abstractmethod
    async def publish(self, key: str, value: bytes | None) -> None:
        """Write one record (``None`` = tombstone) and return once Kafka acknowledged it."""

    @abc.abstractmethod
    async def ensure_topic(self) -> None:
        """Create the topic (compacted, one partition) if missing."""

    @abc.abstractmethod
    async def check(self) -> None:
        """Raise PublishError unless the cluster answers a metadata request for the topic."""

    async def close(self) -> None:
        return None


class KafkaPublisher(Publisher):
    def __init__(self, settings: KafkaSettings, topic: str, timeout_s: float = 5.0) -> None:
        from confluent_kafka import Producer

        self._settings = settings
        self._topic = topic
        self._timeout_s = timeout_s
        conf: dict[str, Any] = {
            **settings.client_config(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
            # Bounds how long a request can wait on an unreachable cluster before answering 503.
            "message.timeout.ms": int(timeout_s * 1000),
            "socket.connection.setup.timeout.ms": max(1000, int(timeout_s * 1000)),
            "error_cb": self._on_error,
            # Never let a produce() auto-create the topic: it must be compacted, which only
            # ensure_topic() does.
            "allow.auto.create.topics": False,
        }
        self._producer = Producer(conf)
        self._topic_ready = False
        self._closing = threading.Event()
        self._poller = threading.Thread(target=self._poll_loop, name="rules-api-kafka-poll", daemon=True)
        self._poller.start()

    def _on_error(self, err: Any) -> None:
        # Broker-down errors are transient and repeat every few seconds; log them once at debug level
        # so a Kafka outage does not flood the API's log. Delivery failures surface per request.
        log.debug("kafka client error: %s", err)

    def _poll_loop(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.1)

    async def publish(self, key: str, value: bytes | None) -> None:
        if not self._topic_ready:
            await self.ensure_topic()
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def on_delivery(err: Any, _msg: Any) -> None:
            if err is not None:
                done.set_exception(PublishError(f"Kafka did not confirm the write: {err.str()}"))
            else:
                done.set_result(None)

        try:
            self._producer.produce(self._topic, key=key.encode("utf-8"), value=value, on_delivery=on_delivery)
        except BufferError as exc:
            raise PublishError(f"Kafka producer queue is full: {exc}") from exc
        except Exception as exc:  # KafkaException: e.g. a fatal idempotence error
            raise PublishError(f"Kafka rejected the write: {exc}") from exc
        try:
            await asyncio.wait_for(asyncio.wrap_future(done), timeout=self._timeout_s + 2.0)
        except TimeoutError as exc:
            raise PublishError("Kafka did not confirm the write in time") from exc

    def _admin(self) -> Any:
        from confluent_kafka.admin import AdminClient

        return AdminClient({**self._settings.client_config(), "socket.connection.setup.timeout.ms": 3000})

    async def ensure_topic(self) -> None:
        await asyncio.to_thread(self._ensure_topic_blocking)

    def _ensure_topic_blocking(self) -> None:
        from confluent_kafka import KafkaError, KafkaException
        from confluent_kafka.admin import NewTopic

        admin = self._admin()
        try:
            metadata = admin.list_topics(timeout=self._timeout_s)
        except KafkaException as exc:
            raise PublishError(f"Kafka is unreachable: {exc}") from exc
        if self._topic in metadata.topics and metadata.topics[self._topic].error is None:
            self._topic_ready = True
            return
        # replication_factor=-1 takes the broker's default, so the same code suits one broker or many.
        topic = NewTopic(
            self._topic,
            num_partitions=1,
            replication_factor=-1,
            config={"cleanup.policy": "compact"},
        )
        future = admin.create_topics([topic], request_timeout=self._timeout_s)[self._topic]
        try:
            future.result(timeout=self._timeout_s + 1)
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                self._topic_ready = True
                return
            raise PublishError(f"cannot create topic {self._topic}: {exc}") from exc
        self._topic_ready = True
        log.info("created compacted topic %s", self._topic)

    async def check(self) -> None:
        await asyncio.to_thread(self._check_blocking)

    def _check_blocking(self) -> None:
        from confluent_kafka import KafkaException

        try:
            # All topics, not just ours: a metadata request naming a missing topic could make a
            # broker with auto-creation on create it uncompacted.
            metadata = self._producer.list_topics(timeout=2.0)
        except KafkaException as exc:
            raise PublishError(f"Kafka is unreachable: {exc}") from exc
        topic = metadata.topics.get(self._topic)
        if topic is None or topic.error is not None:
            raise PublishError(f"topic {self._topic} is not available: {topic.error if topic else 'missing'}")
        if not metadata.brokers:
            raise PublishError("Kafka returned no brokers")

    async def close(self) -> None:
        await asyncio.to_thread(self._producer.flush, self._timeout_s)
        self._closing.set()
        await asyncio.to_thread(self._poller.join, 1.0)
