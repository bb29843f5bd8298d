"""The joiner of one stream: lines in offset order in, complete events out; its pending buffer as state.

Deterministic: what comes out depends only on the lines fed (their text, offsets and Kafka
timestamps), the rule, and when :meth:`Joiner.flush_due` is called. Bounds cut an event where a
line would take it over ``max_lines`` or ``max_bytes``; the cut event is marked ``truncated`` and
the rest, marked ``continued``, starts the next event. A line whose Kafka timestamp is more than
``timeout_ms`` after the previous line's never continues it: replaying the same offsets after a
restore then splits where the live run's processing-time timeout most likely did.

The pending buffer serialises to bytes (:meth:`Joiner.to_state`, :meth:`Joiner.from_state`) for
Flink's keyed state; see docs/multiline.md "Exactly-once" for why that is enough.
"""

from __future__ import annotations

import struct
from typing import Final

from common.multiline.rules import JoinRule
from common.multiline.shapes import ALONE, CONTINUE, CONTINUE_LAST, NO_TRACE, TRACE_STATES
from common.multiline.stream import JoinedEvent, StreamLine

NO_DEADLINE: Final = -1
STATE_VERSION: Final = 1
_EMPTY: Final[tuple[JoinedEvent, ...]] = ()
# version, trace state, continued, partition, first timestamp, last timestamp, deadline, lines
_HEADER: Final = struct.Struct(">BBBiqqqI")
_LENGTH: Final = struct.Struct(">I")
_OFFSET_LENGTH: Final = struct.Struct(">qI")


class StateError(ValueError):
    """Bytes that are not a joiner state this version can read."""


def utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8 without encoding it when it is ASCII (``isascii`` is O(1))."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _encode(text: str) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    return _LENGTH.pack(len(data)) + data


class Joiner:
    """Pending lines of one stream and what to do with the next one."""

    def __init__(self, rule: JoinRule) -> None:
        self.rule = rule
        self._offsets: list[int] = []
        self._texts: list[str] = []
        self._bytes = 0
        self._state = NO_TRACE
        self._continued = False
        self._topic = ""
        self._partition = 0
        self._source = ""
        self._context = ""
        self._first_ts = 0
        self._last_ts = 0
        self._deadline = NO_DEADLINE

    @property
    def pending_lines(self) -> int:
        return len(self._offsets)

    @property
    def deadline_ms(self) -> int:
        """Processing time at which the pending event is flushed; ``NO_DEADLINE`` (-1) when none is."""
        return self._deadline

    def feed(self, line: StreamLine, now_ms: int) -> tuple[JoinedEvent, ...]:
        """Add the next line of the stream (offset order); the events it completes, oldest first.

        ``now_ms`` is processing time: the flush deadline becomes ``now_ms + timeout_ms``.
        """
        rule = self.rule
        count = len(self._offsets)
        if count > 0 and line.timestamp_ms - self._last_ts > rule.timeout_ms:
            done = self._emit(False)
            rest = self.feed(line, now_ms)
            return (done, *rest) if rest else (done,)
        text = line.text
        decision, state = rule.classify(text, count, self._state, self._texts[0] if count else "")
        size = utf8_size(text)
        if decision in (CONTINUE, CONTINUE_LAST):
            if count + 1 > rule.max_lines or self._bytes + 1 + size > rule.max_bytes:
                cut = self._emit(True)
                self._begin(line, size, state, True)
                if decision == CONTINUE_LAST:
                    return (cut, self._emit(False))
                self._deadline = now_ms + rule.timeout_ms
                return (cut,)
            self._offsets.append(line.offset)
            self._texts.append(text)
            self._bytes += 1 + size
            self._last_ts = line.timestamp_ms
            self._state = state
            if decision == CONTINUE_LAST:
                return (self._emit(False),)
            self._deadline = now_ms + rule.timeout_ms
            return _EMPTY
        previous = self._emit(False) if count > 0 else None
        self._begin(line, size, state, False)
        if decision == ALONE:
            alone = self._emit(False)
            return (previous, alone) if previous is not None else (alone,)
        self._deadline = now_ms + rule.timeout_ms
        return (previous,) if previous is not None else _EMPTY

    def flush_due(self, now_ms: int) -> JoinedEvent | None:
        """The pending event if its deadline has passed (the stream went quiet), else None."""
        if self._deadline != NO_DEADLINE and now_ms >= self._deadline and self._offsets:
            return self._emit(False)
        return None

    def flush(self) -> JoinedEvent | None:
        """The pending event now, whatever its deadline (end of input), or None."""
        return self._emit(False) if self._offsets else None

    def _begin(self, line: StreamLine, size: int, state: int, continued: bool) -> None:
        self._offsets.append(line.offset)
        self._texts.append(line.text)
        self._bytes = size
        self._state = state
        self._continued = continued
        self._topic = line.topic
        self._partition = line.partition
        self._source = line.source
        self._context = line.context
        self._first_ts = line.timestamp_ms
        self._last_ts = line.timestamp_ms

    def _emit(self, truncated: bool) -> JoinedEvent:
        texts = self._texts
        size = self._bytes
        end = len(texts)
        # Trailing blank lines were kept in case the trace went on (Go, Python chains); it did not.
        while end > 1 and (not texts[end - 1] or texts[end - 1].isspace()):
            end -= 1
            size -= 1 + utf8_size(texts[end])
        text = texts[0] if end == 1 else "\n".join(texts[:end])
        offsets = tuple(self._offsets)
        event = JoinedEvent(
            self._topic,
            self._partition,
            offsets[0],
            offsets,
            len(offsets),
            self._first_ts,
            self._source,
            text,
            size,
            truncated,
            self._continued,
            self._context,
        )
        self._offsets = []
        self._texts = []
        self._bytes = 0
        self._state = NO_TRACE
        self._continued = False
        self._deadline = NO_DEADLINE
        return event

    def to_state(self) -> bytes:
        """The pending buffer as bytes (big-endian header, then length-prefixed UTF-8 strings).

        Layout: ``>BBBiqqqI`` (version, trace state, continued, partition, first and last Kafka
        timestamp, deadline, line count), topic, source and context as ``>I`` length + bytes, then
        per line ``>qI`` (offset, length) + bytes. An empty buffer is ``b""``.
        """
        if not self._offsets:
            return b""
        parts = [
            _HEADER.pack(
                STATE_VERSION,
                self._state,
                1 if self._continued else 0,
                self._partition,
                self._first_ts,
                self._last_ts,
                self._deadline,
                len(self._offsets),
            ),
            _encode(self._topic),
            _encode(self._source),
            _encode(self._context),
        ]
        for offset, text in zip(self._offsets, self._texts, strict=True):
            data = text.encode("utf-8", "surrogatepass")
            parts.append(_OFFSET_LENGTH.pack(offset, len(data)))
            parts.append(data)
        return b"".join(parts)

    @classmethod
    def from_state(cls, rule: JoinRule, data: bytes) -> Joiner:
        """A joiner with the pending buffer ``to_state`` wrote (under ``rule``, which is config)."""
        joiner = cls(rule)
        if not data:
            return joiner
        try:
            version, state, continued, partition, first_ts, last_ts, deadline, count = _HEADER.unpack_from(
                data, 0
            )
            if version != STATE_VERSION or state >= TRACE_STATES or continued > 1:
                raise StateError(f"not a version {STATE_VERSION} joiner state")
            position = _HEADER.size
            strings: list[str] = []
            for _ in range(3):
                (length,) = _LENGTH.unpack_from(data, position)
                position += _LENGTH.size
                strings.append(_decode(data, position, length))
                position += length
            for _ in range(count):
                offset, length = _OFFSET_LENGTH.unpack_from(data, position)
                position += _OFFSET_LENGTH.size
                text = _decode(data, position, length)
                position += length
                joiner._offsets.append(offset)
                joiner._texts.append(text)
                joiner._bytes += utf8_size(text) + (1 if len(joiner._offsets) > 1 else 0)
        except struct.error as exc:
            raise StateError(f"truncated joiner state: {exc}") from None
        if position != len(data) or count == 0:
            raise StateError("joiner state has trailing bytes or no lines")
        joiner._topic, joiner._source, joiner._context = strings
        joiner._partition = partition
        joiner._state = state
        joiner._continued = continued == 1
        joiner._first_ts = first_ts
        joiner._last_ts = last_ts
        joiner._deadline = deadline
        return joiner


def state_deadline(data: bytes) -> int:
    """The flush deadline held in ``to_state`` bytes without restoring them (``NO_DEADLINE`` for b"").

    For the operator's timer: it looks at every pending stream of a key, most of them not due.
    """
    if not data:
        return NO_DEADLINE
    try:
        return int(_HEADER.unpack_from(data, 0)[6])
    except struct.error:
        raise StateError("truncated joiner state") from None


def _decode(data: bytes, position: int, length: int) -> str:
    if position + length > len(data):
        raise StateError("truncated joiner state")
    try:
        return data[position : position + length].decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise StateError(f"joiner state holds invalid UTF-8: {exc}") from None
