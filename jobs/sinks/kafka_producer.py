"""An acknowledged Kafka producer for the job's dead letters.

``send_all`` returns only once the broker has acknowledged every message (``acks=all``,
idempotent), so a dead letter is durable before the Flink element that produced it completes; a
failed delivery raises and fails the job, which then replays from its last checkpoint.
"""

from __future__ import annotations

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

    def send_all(self, topic: str, messages: list[tuple[str, str]]) -> None:
        failures: list[str] = []
        acknowledged = 0

        def delivered(err: Any, _msg: Any) -> None:
            nonlocal acknowledged
            if err is None:
                acknowledged += 1
            else:
                failures.append(str(err))

        for key, value in messages:
            while True:
                try:
                    self._producer.produce(
                        topic, key=key.encode(), value=value.encode(), on_delivery=delivered
                    )
                    break
                except BufferError:
                    # The local queue is full: let deliveries drain instead of failing the record.
                    self._producer.poll(0.05)
        # librdkafka retries within delivery.timeout.ms; flush returns once every callback ran.
        while acknowledged + len(failures) < len(messages):
            self._producer.flush(1.0)
        if failures:
            raise KafkaDeliveryError(f"{topic}: {len(failures)} dead letters not delivered: {failures[0]}")

    def close(self, timeout_s: float = 10.0) -> None:
        self._producer.flush(timeout_s)
