"""Kafka sources, declared with the Kafka SQL connector and handed to the DataStream API.

The SQL connector is used (rather than the Python ``KafkaSource``) because it exposes each record's
topic, partition, offset and timestamp as metadata columns: the offset triple is what makes every
Elasticsearch ``_id`` deterministic, and the Kafka timestamp is the event time of the statistics
windows. Records reach Python in small batches (``log_batches``). The rules topic goes through
``upsert-kafka`` because only that connector turns a tombstone (a deleted rule) into a DELETE row;
the plain connector silently skips null values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobs.control.config import JobConfig

if TYPE_CHECKING:
    from pyflink.datastream import DataStream
    from pyflink.table import StreamTableEnvironment

LOGS_TABLE = "logflow_log_records"
RULES_TABLE = "logflow_rule_changes"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _kafka_properties(config: JobConfig) -> str:
    lines = [
        f"  {_quote('properties.' + k)} = {_quote(v)}" for k, v in config.kafka.java_properties().items()
    ]
    return ",\n".join(lines)


def logs_table_ddl(config: JobConfig) -> str:
    if config.topics.logs_pattern:
        topic_option = f"'topic-pattern' = {_quote(config.topics.logs_pattern)}"
    else:
        topic_option = f"'topic' = {_quote(';'.join(config.topics.logs))}"
    if config.start_from == "group-offsets":
        # A new consumer group starts from the beginning, so no event produced before the first
        # submission is skipped; later submissions resume from the committed offsets.
        startup = "'scan.startup.mode' = 'group-offsets',\n  'properties.auto.offset.reset' = 'earliest'"
    else:
        startup = f"'scan.startup.mode' = '{config.start_from}-offset'"
    return f"""
CREATE TABLE {LOGS_TABLE} (
  `payload` BYTES,
  `topic` STRING METADATA VIRTUAL,
  `partition` INT METADATA VIRTUAL,
  `offset` BIGINT METADATA VIRTUAL,
  `kafka_ts` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  `proc_time` AS PROCTIME(),
  WATERMARK FOR `kafka_ts` AS `kafka_ts` - INTERVAL '{config.out_of_orderness_seconds}' SECOND
) WITH (
  'connector' = 'kafka',
  {topic_option},
  'properties.group.id' = {_quote(config.consumer_group)},
  {startup},
  'value.format' = 'raw',
{_kafka_properties(config)}
)"""


def rules_table_ddl(config: JobConfig) -> str:
    return f"""
CREATE TABLE {RULES_TABLE} (
  `rule_id` STRING,
  `payload` STRING,
  PRIMARY KEY (`rule_id`) NOT ENFORCED
) WITH (
  'connector' = 'upsert-kafka',
  'topic' = {_quote(config.topics.rules)},
  'key.format' = 'raw',
  'value.format' = 'raw',
  'value.fields-include' = 'EXCEPT_KEY',
  'properties.group.id' = {_quote(config.consumer_group + ".rules")},
{_kafka_properties(config)}
)"""


# Epoch milliseconds of a TIMESTAMP_LTZ: Flink refuses CAST(TIMESTAMP_LTZ AS BIGINT), and
# TIMESTAMPDIFF returns an INT, which in seconds would overflow in 2038 (in minutes it lasts).
# Minutes between instants, then second and millisecond of the minute, are the same in every
# whole-minute zone, so the value does not depend on `table.local-time-zone`.
_EPOCH_MS = (
    "CAST(TIMESTAMPDIFF(MINUTE, TO_TIMESTAMP_LTZ(0, 3), `kafka_ts`) AS BIGINT) * 60000"
    " + EXTRACT(SECOND FROM `kafka_ts`) * 1000 + EXTRACT(MILLISECOND FROM `kafka_ts`)"
)


def log_batches_query(config: JobConfig) -> str:
    """Records gathered per ``batch_ms`` of processing time and per partition.

    Every element that crosses into Python costs PyFlink a fixed overhead (serialisation, the async
    writer's thread hand-offs) far larger than parsing one line, so the records cross in batches.
    The batching is Flink SQL's own windowed ARRAY_AGG: its state is checkpointed with the source
    offsets, so a batch in the making is never lost. One partition's window is one batch, and order
    matters downstream: multi-line events are joined from consecutive lines of a partition
    (docs/multiline.md). A partition is read by one source subtask, the window aggregate is
    partitioned by its non-window group keys (topic, partition) and fires its windows in time order,
    and channels are FIFO, so one partition's batches leave in offset order; ARRAY_AGG keeps arrival
    order within a batch, and the job still sorts a batch by offset if it is not already.
    Parallelism comes from partitions: one partition's records are processed by one subtask.
    Watermarks pass through the window unchanged, so a record can reach Python up to ``batch_ms``
    after the watermark that follows it.

    A batch is columns, not a list of rows: topic and partition once, then parallel arrays of
    payloads, offsets and epoch milliseconds. Python then decodes plain bytes and ints instead of a
    Row object and a timestamp object per record. Every aggregate of a group sees the same rows in
    the same order, so the arrays line up; no element is NULL (a tombstone's payload becomes empty
    bytes), so none is skipped either.
    """
    seconds = f"{config.batch_ms / 1000:.3f}"
    return f"""
SELECT `topic`, `partition`,
  ARRAY_AGG(COALESCE(`payload`, X'')) AS `payloads`,
  ARRAY_AGG(`offset`) AS `offsets`,
  ARRAY_AGG({_EPOCH_MS}) AS `timestamps`
FROM TABLE(TUMBLE(TABLE {LOGS_TABLE}, DESCRIPTOR(`proc_time`), INTERVAL '{seconds}' SECOND))
GROUP BY `window_start`, `window_end`, `topic`, `partition`"""


def log_batches(t_env: StreamTableEnvironment, config: JobConfig) -> DataStream:
    """Rows of (topic, partition, payloads, offsets, timestamps): one batch of one partition.

    ``payloads`` (bytes), ``offsets`` and ``timestamps`` (Kafka timestamps, epoch ms) are parallel
    arrays, one element per Kafka record, in arrival (offset) order.
    """
    t_env.execute_sql(logs_table_ddl(config))
    return t_env.to_data_stream(t_env.sql_query(log_batches_query(config)))


def rule_changes(t_env: StreamTableEnvironment, config: JobConfig) -> DataStream:
    """A changelog of (rule_id, payload) rows; DELETE rows are the API's tombstones."""
    t_env.execute_sql(rules_table_ddl(config))
    return t_env.to_changelog_stream(t_env.from_path(RULES_TABLE))
