"""The normalize operator's multi-line joining, bound to Flink: keyed state and timers.

Keyed by ``topic:partition`` (one key per batch, ``jobs.log_pipeline``):

- ``multiline-pending``: ``MapState<source, bytes>``, each stream's pending lines
  (``Joiner.to_state``); no entry when nothing is pending.
- ``multiline-timer``: ``ValueState<long>``, the processing-time timer this key has registered, so a
  busy key registers one timer per ``timeout_ms`` instead of one per batch. It is never later than
  the earliest pending deadline: a batch that leaves an earlier one registers another; a timer that
  fires flushes what is due and registers the earliest deadline that remains.
- An event-time timer at the end of time: it fires only on the final watermark of a drained
  (``stop --drain``) or bounded run, and flushes every pending event, so quiet streams' last events
  are not lost with the job.

Timers and both states are in every checkpoint together with the Kafka offsets (docs/multiline.md,
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
        self._timer: Any = None

    def open(self, runtime_context: Any, options: ParseOptions) -> None:
        from pyflink.common import Types
        from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

        self._joiner = BatchJoiner(load_config(self._options), options.max_message_bytes, options.otlp)
        self._pending = runtime_context.get_map_state(
            MapStateDescriptor("multiline-pending", Types.STRING(), Types.PRIMITIVE_ARRAY(Types.BYTE()))
        )
        self._timer = runtime_context.get_state(ValueStateDescriptor("multiline-timer", Types.LONG()))

    def on_batch(self, records: list[KafkaRecord], ctx: Any) -> tuple[list[KafkaRecord], JoinedRecords]:
        """What to process for this batch: the messages not joined, then the events completed."""
        assert self._joiner is not None, "open() first"
        timers = ctx.timer_service()
        out: JoinOutput = self._joiner.join(records, self._pending, timers.current_processing_time())
        if out.deadline_ms != NO_DEADLINE:
            self._schedule(timers, out.deadline_ms)
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
            self._timer.clear()
        else:
            events, earliest = self._joiner.flush_due(topic, self._pending, timers.current_processing_time())
            registered = self._timer.value()
            if registered is not None and registered <= timestamp:
                self._timer.clear()  # this one fired (or an earlier one did)
            if earliest != NO_DEADLINE:
                self._schedule(timers, earliest)
        return event_records(events)

    def _schedule(self, timers: Any, deadline_ms: int) -> None:
        registered = self._timer.value()
        if registered is None or deadline_ms < registered:
            timers.register_processing_time_timer(deadline_ms)
            self._timer.update(deadline_ms)
