"""The logflow PyFlink job: Kafka in, rules broadcast in, Elasticsearch, Kafka and Redis out.

The graph (``build_pipeline``), every place data leaves marked ``=>``::

    logs topic(s) ──> SQL window: ARRAY_AGG per 100 ms and partition                  [sources]
                          │ batches, key_by topic:partition (each partition's in order on one subtask)
                      normalize-and-apply-rules <── rules topic (broadcast state)       [operators]
                          │   per batch: join multi-line events (keyed state, timers: a quiet
                          │   stream's last event is emitted by the timer, written as below),
                          │   parse, then rules (common.processing), then
                          │   => Elasticsearch: documents and alerts           [sinks.elasticsearch]
                          │   => dead-letter topic: failures and rejects       [sinks.dead_letter]
                          │ side: alerts ─────────────────────────────────────┐
                          │ side: threshold candidates ──> threshold-alerts ───┤
                          │                      => Elasticsearch: its alerts  │
                          │ side: error sightings ──> error-groups             │
                          │   (keyed by fingerprint) => Elasticsearch: alerts ─┤
                          │   => Redis: groups, window counts                  │ [sinks.redis_errors]
                          │                                       alerts topic <┘ [sinks.alerts]
                          │ main: statistics of the batch
                          └──> window-statistics => Redis                      [sinks.redis_stats]
                                   └──> discarding sink (the branch's end)     [sinks.discarding]

The writes inside operators are deliberate: a batch's documents must be in Elasticsearch (or the
dead letters) before its element completes, so before the checkpoint after it (exactly once, see
``jobs.sinks.elasticsearch.sink``). The operators write through the sink objects named above.

Run it with ``logflow job submit`` (which passes the connector jar and the Python environment),
or directly with ``flink run --python jobs/log_pipeline.py``; settings come from ``LOGFLOW_*``.
"""

from __future__ import annotations

import logging
from typing import Any

from jobs.control.config import JobConfig

log = logging.getLogger("logflow.job")

# Every operator's uid is fixed here: savepoints map state to operators by uid, so renaming or
# reordering code must never change them.
UID_NORMALIZE = "normalize-and-apply-rules"
UID_THRESHOLD = "threshold-alerts"
UID_ALERTS_SINK = "alerts-kafka-sink"
UID_WINDOW_STATS = "window-statistics"
UID_STATS_SINK = "window-statistics-sink"
UID_ERROR_GROUPS = "error-groups"
MAX_PARALLELISM = 128


def flink_configuration(config: JobConfig) -> Any:
    from pyflink.common import Configuration

    conf = Configuration()
    conf.set_string("pipeline.name", config.name)
    conf.set_string("parallelism.default", str(config.parallelism))
    # Keyed state is split into this many key groups, the most a job restored from this state can
    # ever run at. Fixed, because a restore with another value fails: 128 is what Flink derives
    # for any parallelism up to 85, so savepoints taken before it was set still restore.
    conf.set_string("pipeline.max-parallelism", str(MAX_PARALLELISM))
    conf.set_string("execution.checkpointing.interval", f"{config.checkpoint_interval_ms} ms")
    conf.set_string("execution.checkpointing.mode", "EXACTLY_ONCE")
    conf.set_string(
        "execution.checkpointing.min-pause", f"{min(1000, config.checkpoint_interval_ms // 2)} ms"
    )
    conf.set_string("execution.checkpointing.timeout", "10 min")
    conf.set_string("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
    conf.set_string("restart-strategy.type", "exponential-delay")
    conf.set_string("restart-strategy.exponential-delay.initial-backoff", "1 s")
    conf.set_string("restart-strategy.exponential-delay.max-backoff", "30 s")
    conf.set_string("restart-strategy.exponential-delay.attempts-before-reset-backoff", "100")
    # Small, frequent bundles keep rule changes and checkpoints fast; the ES writer batches anyway.
    conf.set_string("python.fn-execution.bundle.size", str(config.bundle_size))
    conf.set_string("python.fn-execution.bundle.time", str(config.bundle_time_ms))
    conf.set_string("python.operator-chaining.enabled", "true")
    # A partition with no traffic must not hold every window open.
    conf.set_string("table.exec.source.idle-timeout", f"{config.idle_close_seconds} s")
    conf.set_string("table.exec.uid.generation", "ALWAYS")
    for key, value in config.flink_settings:
        conf.set_string(key, value)
    return conf


def build_pipeline(env: Any, config: JobConfig) -> None:
    from pyflink.common import Types
    from pyflink.datastream import OutputTag
    from pyflink.datastream.state import MapStateDescriptor
    from pyflink.table import StreamTableEnvironment

    from common.schema.stats import window_start
    from jobs.operators.error_groups import ErrorGroups
    from jobs.operators.normalize import NormalizeAndApplyRules
    from jobs.operators.threshold import ThresholdAlerts
    from jobs.operators.window_stats import WindowStatistics
    from jobs.sinks.alerts import alerts_sink
    from jobs.sinks.discarding import discarding_sink
    from jobs.sources import kafka

    t_env = StreamTableEnvironment.create(env)
    logs = kafka.log_batches(t_env, config)
    rule_changes = kafka.rule_changes(t_env, config)

    pickled = Types.PICKLED_BYTE_ARRAY()
    rules_state = MapStateDescriptor("rules", Types.STRING(), Types.STRING())
    alerts_tag = OutputTag("alerts", Types.STRING())
    threshold_tag = OutputTag("threshold-candidates", pickled)
    errors_tag = OutputTag("error-sightings", pickled)

    # Joins multi-line events, writes documents to Elasticsearch and failures to the dead-letter
    # topic, then emits the statistics of each batch (main output), alerts, threshold candidates
    # and error sightings (side outputs).
    # Keyed by partition: each partition's batches reach one subtask, in order, so that multi-line
    # events can be joined there (docs/multiline.md); the key also scopes the joiner's state.
    statistics = (
        logs.key_by(lambda batch: f"{batch[0]}:{batch[1]}", key_type=Types.STRING())
        .connect(rule_changes.broadcast(rules_state))
        .process(
            NormalizeAndApplyRules(config, rules_state, alerts_tag, threshold_tag, errors_tag),
            output_type=pickled,
        )
        .name("normalize, apply rules and write to elasticsearch")
        .uid(UID_NORMALIZE)
    )

    # Indexes the alerts it fires in Elasticsearch; emits them as a side output.
    threshold_alerts = (
        statistics.get_side_output(threshold_tag)
        .key_by(lambda candidate: candidate[0], key_type=Types.STRING())
        .process(ThresholdAlerts(config, alerts_tag), output_type=pickled)
        .name("threshold alerts")
        .uid(UID_THRESHOLD)
    )

    # Per fingerprint: the group in keyed state, written to Redis; indexes its alerts, emits them.
    error_groups = (
        statistics.get_side_output(errors_tag)
        .key_by(lambda sighting: sighting[0], key_type=Types.STRING())
        .process(ErrorGroups(config, alerts_tag), output_type=pickled)
        .name("error groups to redis")
        .uid(UID_ERROR_GROUPS)
    )

    (
        statistics.get_side_output(alerts_tag)
        .union(threshold_alerts.get_side_output(alerts_tag), error_groups.get_side_output(alerts_tag))
        .sink_to(alerts_sink(config))
        .name("alerts to kafka")
        .uid(UID_ALERTS_SINK)
    )

    window_seconds = config.window_seconds
    (
        statistics.key_by(lambda stat: window_start(stat.ts_ms, window_seconds), key_type=Types.LONG())
        .process(WindowStatistics(config), output_type=pickled)
        .name("window statistics to redis")
        .uid(UID_WINDOW_STATS)
        .sink_to(discarding_sink())
        .name("window statistics end")
        .uid(UID_STATS_SINK)
    )


def main() -> None:
    from pyflink.datastream import StreamExecutionEnvironment

    from jobs.retention.config import RetentionConfig
    from jobs.sinks.elasticsearch import template

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = JobConfig.from_env()
    template.install(config.elasticsearch, config.index_prefix, RetentionConfig.from_env())
    env = StreamExecutionEnvironment.get_execution_environment(flink_configuration(config))
    env.set_parallelism(config.parallelism)
    build_pipeline(env, config)
    log.info("submitting %s (parallelism %d)", config.name, config.parallelism)
    # Under `flink run --detached` this returns as soon as the cluster has accepted the job.
    env.execute(config.name)


if __name__ == "__main__":
    main()
