"""Joining multi-line events in the job: one partition's batches, its streams' pending lines as state.

Free of Flink, so that unit tests drive it with a dict for the state: ``multiline_state`` binds it
to the operator's keyed ``MapState`` and timers. The operator is keyed by ``topic:partition``; under
one key, the state maps each stream's source to its :class:`Joiner`'s bytes (``Joiner.to_state``),
and a source with nothing pending has no entry.

Per batch (:meth:`BatchJoiner.join`): the records in offset order; each joinable message
(``common.multiline.messages``) is fed to its stream's joiner, the others are parsed alone as before;
the events the lines complete come out with the earliest flush deadline of the streams fed. On the
timer (:meth:`BatchJoiner.flush_due`): the streams whose deadline passed emit their pending event.
A joined event goes on as one record (:func:`event_records`): id ``topic:partition:first_offset``,
Kafka timestamp of its first line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from common.multiline import NO_DEADLINE, JoinedEvent, Joiner, MultilineConfig, state_deadline
from common.multiline.messages import event_message, stream_line
from jobs.operators.batch import KafkaRecord

# (topic, partition, first offset) of a record made of a joined event -> that event.
JoinedRecords = dict[tuple[str, int, int], JoinedEvent]


class JoinState(Protocol):
    """What the operator's keyed ``MapState<source, bytes>`` offers (a dict-backed one in tests)."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def remove(self, key: str) -> None: ...

    def items(self) -> Iterable[tuple[str, bytes]]: ...


def records_in_offset_order(
    topic: str,
    partition: int,
    payloads: Sequence[bytes | None],
    offsets: Sequence[int],
    timestamps: Sequence[int],
) -> list[KafkaRecord]:
    """One batch's parallel arrays as records, sorted by offset when they are not already.

    ARRAY_AGG keeps arrival order, which for one partition is offset order; the check makes it
    certain for the joiner at the cost of one pass.
    """
    records: list[KafkaRecord] = [
        (payload, topic, partition, offset, ts_ms)
        for payload, offset, ts_ms in zip(payloads, offsets, timestamps, strict=True)
    ]
    if any(offsets[i] > offsets[i + 1] for i in range(len(offsets) - 1)):
        records.sort(key=lambda record: record[3])
    return records


@dataclass
class JoinOutput:
    # Messages that are not joined: parsed alone, as before joining existed.
    direct: list[KafkaRecord] = field(default_factory=list)
    events: list[JoinedEvent] = field(default_factory=list)
    # The earliest flush deadline among the streams this batch left pending; NO_DEADLINE if none.
    deadline_ms: int = NO_DEADLINE


class BatchJoiner:
    """Feeds one key's batches to its streams' joiners; ``config`` picks each stream's rule."""

    def __init__(self, config: MultilineConfig, max_message_bytes: int, otlp_mode: str = "auto") -> None:
        self._config = config
        self._max_bytes = max_message_bytes
        self._otlp = otlp_mode

    def join(self, records: Sequence[KafkaRecord], state: JoinState, now_ms: int) -> JoinOutput:
        """Feed ``records`` (one partition, offset order); each stream's state is written back once."""
        out = JoinOutput()
        joiners: dict[str, Joiner] = {}
        stored: set[str] = set()  # sources that had an entry before this batch
        for record in records:
            payload, topic, partition, offset, ts_ms = record
            line = (
                stream_line(
                    topic, partition, offset, ts_ms, payload, max_bytes=self._max_bytes, otlp_mode=self._otlp
                )
                if payload is not None
                else None
            )
            if line is None:
                out.direct.append(record)
                continue
            joiner = joiners.get(line.source)
            if joiner is None:
                data = state.get(line.source)
                if data:
                    stored.add(line.source)
                joiner = Joiner.from_state(self._config.rule_for(topic, line.source), data or b"")
                joiners[line.source] = joiner
            out.events.extend(joiner.feed(line, now_ms))
        for source, joiner in joiners.items():
            data = joiner.to_state()
            if data:
                state.put(source, data)
                deadline = joiner.deadline_ms
                if deadline != NO_DEADLINE and (out.deadline_ms == NO_DEADLINE or deadline < out.deadline_ms):
                    out.deadline_ms = deadline
            elif source in stored:
                state.remove(source)
        return out

    def flush_due(self, topic: str, state: JoinState, now_ms: int) -> tuple[list[JoinedEvent], int]:
        """The pending events whose deadline passed, and the earliest deadline still pending."""
        events: list[JoinedEvent] = []
        earliest = NO_DEADLINE
        for source, data in list(state.items()):
            deadline = state_deadline(data)
            if deadline != NO_DEADLINE and deadline <= now_ms:
                event = Joiner.from_state(self._config.rule_for(topic, source), data).flush_due(now_ms)
                if event is not None:
                    events.append(event)
                state.remove(source)
            elif deadline != NO_DEADLINE and (earliest == NO_DEADLINE or deadline < earliest):
                earliest = deadline
        return events, earliest

    def flush_all(self, topic: str, state: JoinState) -> list[JoinedEvent]:
        """Every pending event (end of input: a drained or bounded run)."""
        events: list[JoinedEvent] = []
        for source, data in list(state.items()):
            event = Joiner.from_state(self._config.rule_for(topic, source), data).flush()
            if event is not None:
                events.append(event)
            state.remove(source)
        return events


def event_records(events: Iterable[JoinedEvent]) -> tuple[list[KafkaRecord], JoinedRecords]:
    """Each event as the record ``process_batch`` parses (its first offset and Kafka timestamp),
    and the events by those coordinates (for their labels and dead letters)."""
    records: list[KafkaRecord] = []
    joined: JoinedRecords = {}
    for event in events:
        records.append(
            (event_message(event), event.topic, event.partition, event.first_offset, event.timestamp_ms)
        )
        joined[(event.topic, event.partition, event.first_offset)] = event
    return records, joined
