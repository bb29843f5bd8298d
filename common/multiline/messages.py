"""Kafka messages as stream lines, and a joined event back as one message to parse.

Which messages are joined: a bare text line, or a shipper's envelope (``common/parsing/envelopes``)
whose line is text. Not joined, parsed alone as before: an OTLP request (it fans out into records of
its own), a plain JSON object (a structured log line is a whole event), a message that already holds
several lines (a shipper joined them), a value that is not UTF-8, and one over the parser's size limit
(it is cut anyway, and the joiner's state stays small). The decision depends on the bytes only, so a
replay decides the same.

A line's ``context`` is its message's value: the event a line starts carries it, so an event of one
line is parsed from exactly the bytes it would be parsed from alone (same record, same id as before
joining existed), and an enveloped event keeps its first message's envelope (host, file, shipper
fields) around the joined text.
"""

from __future__ import annotations

from common.multiline.stream import JoinedEvent, StreamLine, source_of
from common.parsing import jsoncodec
from common.parsing.envelopes import otlp
from common.parsing.envelopes.lines import envelope_line, with_line


def stream_line(
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int,
    value: bytes,
    *,
    max_bytes: int,
    otlp_mode: str = "auto",
) -> StreamLine | None:
    """The message as a line of its stream, or None when it is not joined (module docstring)."""
    if len(value) > max_bytes or otlp.candidate(value, otlp_mode):
        return None
    try:
        raw = value.decode()
    except UnicodeDecodeError:
        return None
    text = raw[:-1] if raw[-1:] == "\n" else raw
    if text[-1:] == "\r":
        text = text[:-1]
    if "\n" in text:
        return None
    if text[:1] == "{":
        try:
            obj = jsoncodec.loads(text)
        except ValueError:
            obj = None  # not JSON: a bare line that starts with a brace
        if isinstance(obj, dict):
            found = envelope_line(obj)
            if found is None or "\n" in found.text.rstrip("\r\n"):
                return None
            line = found.text.rstrip("\r\n")
            source = source_of(found.host, found.file, found.container)
            return StreamLine(topic, partition, offset, timestamp_ms, source, line, raw)
    return StreamLine(topic, partition, offset, timestamp_ms, "", text, raw)


def event_message(event: JoinedEvent) -> bytes:
    """The bytes to parse for ``event``: its one message's value, or the joined text (in its first
    message's envelope when that was one)."""
    if event.line_count == 1:
        return event.context.encode("utf-8", "surrogatepass")
    if event.context[:1] == "{":
        try:
            obj = jsoncodec.loads(event.context)
        except ValueError:
            obj = None
        rebuilt = with_line(obj, event.text) if isinstance(obj, dict) else None
        if rebuilt is not None:
            return jsoncodec.dumps(rebuilt).encode("utf-8", "surrogatepass")
    return event.text.encode("utf-8", "surrogatepass")
