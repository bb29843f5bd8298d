"""The alerts sink: alert JSON (``common.schema.alert``) to the alerts topic, through Flink's KafkaSink.

At least once: an alert is also indexed with a deterministic id, which is where duplicates
disappear; a consumer of the topic can deduplicate on ``event.id``.
"""

from __future__ import annotations

from typing import Any

from jobs.control.config import JobConfig


def alerts_sink(config: JobConfig) -> Any:
    from pyflink.common.serialization import SimpleStringSchema
    from pyflink.datastream.connectors.base import DeliveryGuarantee
    from pyflink.datastream.connectors.kafka import KafkaRecordSerializationSchema, KafkaSink

    builder = (
        KafkaSink.builder()
        .set_bootstrap_servers(config.kafka.bootstrap_servers)
        .set_record_serializer(
            KafkaRecordSerializationSchema.builder()
            .set_topic(config.topics.alerts)
            .set_value_serialization_schema(SimpleStringSchema())
            .build()
        )
        .set_delivery_guarantee(DeliveryGuarantee.AT_LEAST_ONCE)
    )
    for key, value in config.kafka.java_properties().items():
        if key != "bootstrap.servers":
            builder = builder.set_property(key, value)
    return builder.build()
