"""An asyncio-friendly, acknowledged Kafka producer for the writer's dead letters.

``send`` resolves only once the broker has acknowledged the message (``acks=all``, idempotent),
so a dead letter is durable before the Flink element that produced it completes; a failed
delivery raises and fails the job, which then replays from its last checkpoint.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from common.settings import KafkaSettings


class KafkaDeliveryError(Exception):
    pass


class AcknowledgedProducer:
    def __init__(self, settings: KafkaSettings, *, client_id: str = "logflow-job") -> None:
        from confluent_kafka import Producer

        conf: dict[str, Any] = {
            **settings.client_config(),
            "client.id": client_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "message.max.bytes": 16 * 1024 * 1024,
        }
        self._producer = Producer(conf)
        self._running = True
        # librdkafka only runs delivery callbacks from poll(); a small thread keeps them flowing.
        self._poller = threading.Thread(target=self._poll_loop, name="logflow-dlq-poll", daemon=True)
        self._poller.start()

    def _poll_loop(self) -> None:
        while self._running:
            self._producer.poll(0.05)

    async def send(self, topic: str, key: str, value: str) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def delivered(err: Any, _msg: Any) -> None:
            if err is None:
                loop.call_soon_threadsafe(_resolve, future, None)
            else:
                loop.call_soon_threadsafe(_resolve, future, KafkaDeliveryError(f"{topic}: {err}"))

        while True:
            try:
                self._producer.produce(topic, key=key.encode(), value=value.encode(), on_delivery=delivered)
                break
            except BufferError:
                # The local queue is full: let deliveries drain instead of failing the record.
                await asyncio.sleep(0.05)
        await future

    def close(self, timeout_s: float = 10.0) -> None:
        self._producer.flush(timeout_s)
        self._running = False
        self._poller.join(timeout=1.0)


def _resolve(future: asyncio.Future[None], error: Exception | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
