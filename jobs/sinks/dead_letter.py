"""The dead-letter sink: records the job could not process, and documents Elasticsearch refused.

Its messages are ``common.schema.dead_letter`` bodies keyed by the record's id. ``send_all`` returns
only once the broker acknowledged every one (``jobs.sinks.kafka_producer``), so a dead letter is
durable before the Flink element that produced it completes.
"""

from __future__ import annotations

from common.settings import KafkaSettings
from jobs.sinks.kafka_producer import AcknowledgedProducer


class DeadLetterSink:
    def __init__(self, settings: KafkaSettings) -> None:
        self._settings = settings
        self._producer: AcknowledgedProducer | None = None

    def open(self) -> None:
        self._producer = AcknowledgedProducer(self._settings)

    def send_all(self, topic: str, messages: list[tuple[str, str]]) -> None:
        if self._producer is None:
            raise RuntimeError("the dead-letter sink is not open")
        self._producer.send_all(topic, messages)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
