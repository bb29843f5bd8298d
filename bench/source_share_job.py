"""The PyFlink program of bench_source_share.py: one transport variant, no parsing.

Submitted by the benchmark with ``flink run --python bench/source_share_job.py --variant A ...``
(jobs.control.submit, so with the job's connector jar and interpreter). Each variant reads the
benchmark's topic from the earliest offset in its own consumer group, hands the records to Python
and only counts them there; nothing leaves Python (the discarding sink ends the branch), so what
is measured is the transport: Kafka to rows or elements, any batching, Beam's data plane both ways.

- A ``sql-window``: the job's own source and batching (jobs.sources.kafka: the SQL Kafka table with
  metadata columns, the 100 ms ``ARRAY_AGG`` window per partition, to a DataStream, key_by
  topic:partition like the job), then a Python KeyedProcessFunction per batch.
- B ``datastream``: the DataStream ``KafkaSource``, value only (bytes), then a Python
  ProcessFunction per record; PyFlink's bundles are the only batching.
- C ``sql-arrow``: the job's SQL Kafka table, then a vectorised (pandas) Python UDF: the JVM gathers
  rows into Arrow batches without keyed state, Python gets columns. Ends in a blackhole table.
- D ``sql-records``: the job's SQL Kafka table, the batches' columns per record (no window), to a
  DataStream, then a Python ProcessFunction per record.

Progress: every Python function instance writes its running count to a file of its own in
``--progress-dir`` from a daemon thread every 100 ms. Flink's REST metrics would be the obvious
place, but the JobManager refreshes them only every 10 s (``metrics.fetcher.update-interval``),
too coarse for runs of ten seconds, and scraping the TaskManagers' Prometheus endpoint every
250 ms would load the very JVM that is measured.
"""

from __future__ import annotations

import argparse
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from common.settings import KafkaSettings, TopicSettings
from jobs.control.config import JobConfig

VARIANTS = ("A", "B", "C", "D")
UID_PREFIX = "bench-source-share"


class ProgressFile:
    """A running count, written to ``<directory>/<random name>`` every 100 ms by a daemon thread.

    Created in the client and pickled with the function, so it holds no thread until ``start``
    (called from the function's ``open`` in the Python worker). ``add`` runs on the worker's
    thread; reading the int from the writer thread needs no lock (the GIL, one writer).
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.count = 0

    def start(self) -> None:
        self.count = 0
        self._path = os.path.join(self.directory, uuid.uuid4().hex)
        self._stop = threading.Event()
        threading.Thread(target=self._run, name="bench-progress", daemon=True).start()

    def add(self, records: int) -> None:
        self.count += records

    def stop(self) -> None:
        self._stop.set()
        self._write(self.count)

    def _run(self) -> None:
        written = -1
        while not self._stop.wait(0.1):
            count = self.count
            if count != written:
                self._write(count)
                written = count

    def _write(self, count: int) -> None:
        # Written aside and renamed: the benchmark never reads a half-written number.
        hidden = os.path.join(self.directory, f".{os.path.basename(self._path)}")
        with open(hidden, "w") as out:
            out.write(str(count))
        os.replace(hidden, self._path)


def bench_config(args: argparse.Namespace) -> JobConfig:
    """The job's settings for the benchmark's topic, group and bundles; checkpoints as the job's.

    A failure must end the run rather than replay records into the count, and a cancelled run
    leaves no retained checkpoint behind.
    """
    return JobConfig(
        name=args.name,
        consumer_group=args.group,
        start_from="earliest",
        parallelism=args.parallelism,
        bundle_size=args.bundle_size,
        bundle_time_ms=args.bundle_time_ms,
        flink_settings=(
            ("python.fn-execution.arrow.batch.size", str(args.arrow_batch_size)),
            ("restart-strategy.type", "none"),
            ("execution.checkpointing.externalized-checkpoint-retention", "DELETE_ON_CANCELLATION"),
        ),
        kafka=KafkaSettings.from_env(),
        topics=TopicSettings(logs=(args.topic,)),
    )


def _sql_source(env: Any, config: JobConfig) -> Any:
    from pyflink.table import StreamTableEnvironment

    from jobs.sources.kafka import logs_table_ddl

    t_env = StreamTableEnvironment.create(env)
    t_env.get_config().set("pipeline.name", config.name)
    t_env.execute_sql(logs_table_ddl(config))
    return t_env


def _records_query() -> str:
    """The batches' columns, one row per record: what a per-record design would hand to Python."""
    # The batches' own epoch-millisecond expression, so that A, C and D convert the same columns.
    from jobs.sources.kafka import _EPOCH_MS, LOGS_TABLE

    return (
        f"SELECT `topic`, `partition`, COALESCE(`payload`, X'') AS `payload`, `offset`,"
        f" {_EPOCH_MS} AS `ts` FROM {LOGS_TABLE}"
    )


def record_counter(progress: ProgressFile) -> Any:
    """A Python ProcessFunction that counts each record and emits nothing (B and D)."""
    from pyflink.datastream import ProcessFunction

    class CountRecords(ProcessFunction):
        def open(self, runtime_context: Any) -> None:
            progress.start()

        def close(self) -> None:
            progress.stop()

        def process_element(self, value: Any, ctx: Any) -> None:
            progress.add(1)

    return CountRecords()


def build_sql_window(env: Any, config: JobConfig, progress: ProgressFile) -> None:
    from pyflink.common import Types
    from pyflink.datastream import KeyedProcessFunction

    from jobs.sinks.discarding import discarding_sink
    from jobs.sources.kafka import log_batches_query

    class CountBatches(KeyedProcessFunction):
        def open(self, runtime_context: Any) -> None:
            progress.start()

        def close(self) -> None:
            progress.stop()

        def process_element(self, batch: Any, ctx: Any) -> None:
            progress.add(len(batch[2]))

    t_env = _sql_source(env, config)
    batches = t_env.to_data_stream(t_env.sql_query(log_batches_query(config)))
    (
        batches.key_by(lambda batch: f"{batch[0]}:{batch[1]}", key_type=Types.STRING())
        .process(CountBatches(), output_type=Types.LONG())
        .uid(f"{UID_PREFIX}-count")
        .sink_to(discarding_sink())
    )
    env.execute(config.name)


def build_datastream(env: Any, config: JobConfig, progress: ProgressFile) -> None:
    from pyflink.common import Duration, Types, WatermarkStrategy
    from pyflink.common.serialization import ByteArraySchema
    from pyflink.datastream.connectors.kafka import KafkaOffsetsInitializer, KafkaSource

    from jobs.sinks.discarding import discarding_sink

    source = (
        KafkaSource.builder()
        .set_properties(config.kafka.java_properties())
        .set_topics(*config.topics.logs)
        .set_group_id(config.consumer_group)
        .set_starting_offsets(KafkaOffsetsInitializer.earliest())
        .set_value_only_deserializer(ByteArraySchema())
        .build()
    )
    # Event time from the Kafka timestamps the source attaches, bounded as the job's watermark is;
    # no Python timestamp assigner, which would be one more Python operator.
    watermarks = WatermarkStrategy.for_bounded_out_of_orderness(
        Duration.of_seconds(config.out_of_orderness_seconds)
    )
    (
        env.from_source(source, watermarks, "kafka datastream source")
        .uid(f"{UID_PREFIX}-source")
        .process(record_counter(progress), output_type=Types.LONG())
        .uid(f"{UID_PREFIX}-count")
        .sink_to(discarding_sink())
    )
    env.execute(config.name)


def build_sql_arrow(env: Any, config: JobConfig, progress: ProgressFile) -> None:
    from pyflink.table import DataTypes
    from pyflink.table.udf import ScalarFunction, udf

    class CountRows(ScalarFunction):
        def open(self, function_context: Any) -> None:
            progress.start()

        def close(self) -> None:
            progress.stop()

        def eval(self, topic: Any, partition: Any, payload: Any, offset: Any, ts: Any) -> Any:
            progress.add(len(offset))
            return offset < 0  # a scalar function answers every row: the smallest answer

    t_env = _sql_source(env, config)
    t_env.create_temporary_system_function(
        "bench_count_rows", udf(CountRows(), result_type=DataTypes.BOOLEAN(), func_type="pandas")
    )
    t_env.execute_sql(
        "CREATE TEMPORARY TABLE bench_discard (`flag` BOOLEAN) WITH ('connector' = 'blackhole')"
    )
    t_env.execute_sql(
        "INSERT INTO bench_discard SELECT bench_count_rows(`topic`, `partition`, `payload`, `offset`, `ts`)"
        f" FROM ({_records_query()})"
    )


def build_sql_records(env: Any, config: JobConfig, progress: ProgressFile) -> None:
    from pyflink.common import Types

    from jobs.sinks.discarding import discarding_sink

    t_env = _sql_source(env, config)
    (
        t_env.to_data_stream(t_env.sql_query(_records_query()))
        .process(record_counter(progress), output_type=Types.LONG())
        .uid(f"{UID_PREFIX}-count")
        .sink_to(discarding_sink())
    )
    env.execute(config.name)


BUILDERS: dict[str, Callable[[Any, JobConfig, ProgressFile], None]] = {
    "A": build_sql_window,
    "B": build_datastream,
    "C": build_sql_arrow,
    "D": build_sql_records,
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="one transport variant of bench_source_share.py")
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--name", required=True, help="the Flink job's name")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True, help="a consumer group of this run's own")
    parser.add_argument("--progress-dir", required=True)
    parser.add_argument("--parallelism", type=int, default=JobConfig.parallelism)
    parser.add_argument("--bundle-size", type=int, default=JobConfig.bundle_size)
    parser.add_argument("--bundle-time-ms", type=int, default=JobConfig.bundle_time_ms)
    parser.add_argument("--arrow-batch-size", type=int, default=1000)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    from pyflink.datastream import StreamExecutionEnvironment

    from jobs.log_pipeline import flink_configuration

    args = parse_args(argv)
    config = bench_config(args)
    env = StreamExecutionEnvironment.get_execution_environment(flink_configuration(config))
    env.set_parallelism(config.parallelism)
    BUILDERS[args.variant](env, config, ProgressFile(args.progress_dir))


if __name__ == "__main__":
    main()
