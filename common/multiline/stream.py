"""What the joiner is fed and what it gives back, and what makes two messages one stream.

A stream is one topic, one partition and one source (host plus file or container). Lines of
different streams are never joined: one partition often carries many files or containers, and a
trace from one must not absorb the lines another wrote in between. Within a stream, Kafka's order
within a partition is the order the lines were written in, which is what joining relies on.
"""

from __future__ import annotations

from typing import Final, NamedTuple

# Separates host from file or container in a source; it cannot occur in a host name.
SOURCE_SEPARATOR: Final = "|"


class StreamLine(NamedTuple):
    """One Kafka message as the joiner sees it: its coordinates and the log line it carries.

    ``text`` is the log line itself (for an enveloped message, the inner line the envelope helper
    unwrapped; for a bare message, the value decoded as UTF-8, without a trailing newline).
    ``source`` is :func:`source_of`'s answer, ``""`` for a bare line. ``context`` is opaque to the
    joiner: the first line's is kept (in state too) and handed back on the joined event, so the job
    can carry what it needs from the first message (its envelope metadata, say) to the record.
    """

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    source: str
    text: str
    context: str = ""


class JoinedEvent(NamedTuple):
    """One event made of ``line_count`` consecutive lines of one stream.

    ``first_offset`` is the offset of the first message: the record's id comes from it
    (:func:`record_id`). ``offsets`` lists every message joined (not contiguous when the partition
    interleaves streams). ``timestamp_ms`` is the first message's Kafka timestamp. ``byte_size`` is
    the UTF-8 size of ``text``. ``truncated``: a bound cut this event and the following event of
    the stream carries the rest; ``continued``: this event is such a rest.
    """

    topic: str
    partition: int
    first_offset: int
    offsets: tuple[int, ...]
    line_count: int
    timestamp_ms: int
    source: str
    text: str
    byte_size: int
    truncated: bool
    continued: bool
    context: str


def record_id(event: JoinedEvent) -> str:
    """``topic:partition:first_offset``: what a record's id is made of, as for a single line."""
    return f"{event.topic}:{event.partition}:{event.first_offset}"


def source_of(host: str | None = None, file: str | None = None, container: str | None = None) -> str:
    """The source part of a stream key: ``host|file``, ``host|container``, or ``""`` for a bare line.

    The envelope helper knows a message's host, ``log.file.path`` and container; a bare line knows
    none of them, so all bare lines of a partition are one stream (as they are one file upstream).
    A file wins over a container: a container's log file is the finer identity.
    """
    where = file or container or ""
    host = host or ""
    if not where and not host:
        return ""
    return f"{host}{SOURCE_SEPARATOR}{where}"


def bare_line(topic: str, partition: int, offset: int, timestamp_ms: int, value: bytes) -> StreamLine:
    """A bare (not enveloped) message as a stream line: no source, the value as text."""
    text = value.decode("utf-8", "replace")
    if text.endswith("\n"):
        text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
    return StreamLine(topic, partition, offset, timestamp_ms, "", text)


def stream_key(line: StreamLine) -> str:
    """The key the job partitions by: ``topic:partition:source``.

    Kafka topic names cannot hold ``:``, so the first two separators are unambiguous whatever the
    source contains.
    """
    return f"{line.topic}:{line.partition}:{line.source}"
