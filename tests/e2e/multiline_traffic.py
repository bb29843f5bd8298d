"""Multi-line traffic for the e2e tests: real traces, one line per message, among other streams.

A :class:`Traffic` is a list of messages for one partition, each tagged with the event it belongs to,
so a test knows every document the job must write (one per event, its id the first line's position)
and what the windows must count (one per event, at its first line's Kafka timestamp).
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from e2e_harness import Pipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "multiline"


def fixture(name: str, start: int, end: int) -> list[str]:
    """Lines ``start:end`` of a fixture: one whole trace (checked by the joiner's unit tests)."""
    return (FIXTURES / name).read_text().splitlines()[start:end]


JAVA = fixture("java-caused-by.log", 1, 19)  # ERROR header, exception, frames, Suppressed, 2 x Caused by
GO = fixture("go-panic.log", 2, 21)  # panic, [signal], blank lines, two goroutines, exit status
PYTHON = fixture("python-chained.log", 1, 25)  # ERROR header and three chained tracebacks


def filebeat(line: str, host: str, path: str) -> str:
    return json.dumps(
        {
            "@timestamp": "2026-11-22T10:00:00.000Z",
            "@metadata": {"beat": "filebeat", "type": "_doc", "version": "8.11.0"},
            "message": line,
            "log": {"file": {"path": path}, "offset": 0},
            "host": {"name": host},
            "agent": {"type": "filebeat", "version": "8.11.0"},
            "input": {"type": "filestream"},
        }
    )


def vector(line: str, host: str, path: str) -> str:
    return json.dumps(
        {
            "message": line,
            "source_type": "file",
            "host": host,
            "file": path,
            "timestamp": "2026-11-22T10:00:00Z",
        }
    )


@dataclass
class Message:
    value: str
    event: str  # the event it belongs to: its lines share this name
    starts: bool  # the event's first line


_singles = itertools.count()


@dataclass
class Traffic:
    partition: int
    messages: list[Message] = field(default_factory=list)

    def event(self, name: str, values: list[str]) -> None:
        for i, value in enumerate(values):
            self.messages.append(Message(value, name, i == 0))

    def single(self, value: str) -> None:
        self.messages.append(Message(value, f"single-{next(_singles)}", True))


def interleave(*streams: list[Message]) -> list[Message]:
    """One message of each stream in turn: consecutive lines of a stream are never adjacent."""
    out: list[Message] = []
    longest = max(len(stream) for stream in streams)
    for i in range(longest):
        for stream in streams:
            if i < len(stream):
                out.append(stream[i])
    return out


def produce_in_chunks(
    pipeline: Pipeline, partition: int, messages: list[Message], chunks: int, pause_s: float = 0.3
) -> dict[str, list[str]]:
    """Produce ``messages`` to ``partition`` in ``chunks`` (so a trace spans several batches); the
    positions of each event's messages, by event name."""
    positions: dict[str, list[str]] = {}
    size = max(1, -(-len(messages) // chunks))
    for start in range(0, len(messages), size):
        part = messages[start : start + size]
        ids = pipeline.produce(
            [m.value for m in part],
            records_per_message=[1 if m.starts else 0 for m in part],
            partition=partition,
        )
        for message, position in zip(part, ids, strict=True):
            positions.setdefault(message.event, []).append(position)
        time.sleep(pause_s)
    return positions


def offsets(positions: list[str]) -> list[int]:
    return [int(position.rsplit(":", 1)[1]) for position in positions]
