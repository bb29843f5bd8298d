"""The normalize operator's multi-line joining, bound to Flink: keyed state and timers.

Keyed by ``topic:partition`` (one key per batch, ``jobs.log_pipeline``):

- ``multiline-pending``: ``MapState<source, bytes>``, each stream's pending lines
  (``Joiner.to_state``); no entry when nothing is pending.
- Processing-time timers, with no state of their own: every batch (and every timer) that leaves a
  deadline registers a timer at that deadline rounded up to a ``TICK_MS`` grid, and a backup one
  ``BACKUP_MS`` later. Flink keeps one timer per key and timestamp, so a busy key has a timer per
  tick rather than one per batch, and the re-registration costs a message, not a timer. Nothing
  trusts that one registration survives a restore: PyFlink (2.2) registers a Python timer in a
  mailbox action queued when the bundle that made it finishes, and the bundle a checkpoint barrier
  finishes is snapshotted before that action runs, so a restore from that checkpoint has the state
  of its last bundle without the timers that bundle registered (docs/job.md, "Timers and
  checkpoints"). An earlier version kept "the timer this key registered" in ``ValueState`` and
  skipped later registrations: one such restore then held that partition's last line until its
  next line, without bound. Now every batch registers again, and an earlier batch's timer, on
  firing, arms the deadline left.
- An event-time timer at the end of time: it fires only on the final watermark of a drained
  (``stop --drain``) or bounded run, and flushes every pending event, so quiet streams' last events
  are not lost with the job.

The timers and the state are in every checkpoint together with the Kafka offsets (docs/multiline.md,
"Exactly-once").
"""

from __future__ import annotations

from typing import Any

from common.multiline import NO_DEADLINE, MultilineOptions, load_config
from common.parsing import ParseOptions
from jobs.operators.batch import KafkaRecord
from jobs.operators.multiline import BatchJoiner, JoinedRecords, JoinOutput, event_records

# Long.MAX_VALUE: the final watermark's time; no other watermark reaches it.
END_OF_INPUT = 2**63 - 1
# A pending event is flushed at most this long after its deadline (docs/multiline.md, "Timers").
TICK_MS = 250
BACKUP_MS = 1_000


def timer_times(deadline_ms: int) -> tuple[int, int]:
    """The processing-time timers that flush a deadline: on the tick grid, and the backup."""
    first = -(-deadline_ms // TICK_MS) * TICK_MS
    return first, first + BACKUP_MS


class KeyedJoining:
    """Created with the operator; ``open`` binds it to the runtime context of one subtask."""

    def __init__(self) -> None:
        # Read where the graph is built: the TaskManagers' workers do not inherit the submitter's
        # environment. Loading the document here too fails a bad one at submission, with the paths
        # at fault; the workers load it again (the file must be readable where they run).
        self._options = MultilineOptions.from_env()
        load_config(self._options)
        self._joiner: BatchJoiner | None = None
        self._pending: Any = None

    def open(self, runtime_context: Any, options: ParseOptions) -> None:
        from pyflink.common import Types
        from pyflink.datastream.state import MapStateDescriptor

        self._joiner = BatchJoiner(load_config(self._options), options.max_message_bytes, options.otlp)
        self._pending = runtime_context.get_map_state(
            MapStateDescriptor("multiline-pending", Types.STRING(), Types.PRIMITIVE_ARRAY(Types.BYTE()))
        )

    def on_batch(self, records: list[KafkaRecord], ctx: Any) -> tuple[list[KafkaRecord], JoinedRecords]:
        """What to process for this batch: the messages not joined, then the events completed."""
        assert self._joiner is not None, "open() first"
        timers = ctx.timer_service()
        out: JoinOutput = self._joiner.join(records, self._pending, timers.current_processing_time())
        if out.deadline_ms != NO_DEADLINE:
            _arm(timers, out.deadline_ms)
            timers.register_event_time_timer(END_OF_INPUT)  # the same timer every time: Flink keeps one
        event_recs, joined = event_records(out.events)
        return out.direct + event_recs if event_recs else out.direct, joined

    def on_timer(self, timestamp: int, ctx: Any) -> tuple[list[KafkaRecord], JoinedRecords]:
        """The events a timer completes: those due (processing time), or all (end of input)."""
        from pyflink.datastream import TimeDomain

        assert self._joiner is not None, "open() first"
        topic = str(ctx.get_current_key()).rsplit(":", 1)[0]
        timers = ctx.timer_service()
        if ctx.time_domain() == TimeDomain.EVENT_TIME:
            events = self._joiner.flush_all(topic, self._pending)
        else:
            events, earliest = self._joiner.flush_due(topic, self._pending, timers.current_processing_time())
            if earliest != NO_DEADLINE:
                _arm(timers, earliest)
        return event_records(events)


def _arm(timers: Any, deadline_ms: int) -> None:
    for timestamp in timer_times(deadline_ms):
        timers.register_processing_time_timer(timestamp)
