from common.settings import KafkaSettings, TopicSettings
from jobs.control.config import JobConfig
from jobs.sources.kafka import logs_table_ddl, rules_table_ddl


def test_logs_table_exposes_kafka_metadata_and_kafka_time_watermarks() -> None:
    ddl = logs_table_ddl(JobConfig(topics=TopicSettings(logs=("a", "b"))))
    for column in ("`topic` STRING METADATA", "`partition` INT METADATA", "`offset` BIGINT METADATA"):
        assert column in ddl
    assert "METADATA FROM 'timestamp'" in ddl
    assert "WATERMARK FOR `kafka_ts` AS `kafka_ts` - INTERVAL '5' SECOND(3)" in ddl
    assert "'topic' = 'a;b'" in ddl
    assert (
        "'scan.startup.mode' = 'group-offsets'" in ddl
        and "'properties.auto.offset.reset' = 'earliest'" in ddl
    )


def test_logs_table_pattern_start_mode_and_quoting() -> None:
    config = JobConfig(start_from="latest", topics=TopicSettings(logs_pattern="app-.*'x"))
    ddl = logs_table_ddl(config)
    assert "'topic-pattern' = 'app-.*''x'" in ddl
    assert "'scan.startup.mode' = 'latest-offset'" in ddl


def test_rules_table_is_upsert_kafka_so_tombstones_are_deletes() -> None:
    ddl = rules_table_ddl(
        JobConfig(kafka=KafkaSettings(sasl_username="u", sasl_password="p", sasl_mechanism="PLAIN"))
    )
    assert "'connector' = 'upsert-kafka'" in ddl
    assert "PRIMARY KEY (`rule_id`) NOT ENFORCED" in ddl
    assert "'properties.sasl.jaas.config'" in ddl
