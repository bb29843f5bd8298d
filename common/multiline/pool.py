"""Many streams at once: one :class:`Joiner` per stream key, created on first sight.

What the Flink operator does with keyed state (one joiner's state per key), done in memory: for
tests, benchmarks and tools that read a whole partition (``logflow parse`` over a file, say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from common.multiline.joiner import Joiner
from common.multiline.rules import JoinRule
from common.multiline.stream import JoinedEvent, StreamLine, stream_key

RuleFor = Callable[[str, str], JoinRule]


class JoinerPool:
    """Routes each line to its stream's joiner; ``rule_for(topic, source)`` picks the stream's rule."""

    def __init__(self, rule_for: RuleFor) -> None:
        self._rule_for = rule_for
        self._joiners: dict[str, Joiner] = {}

    def feed(self, line: StreamLine, now_ms: int) -> tuple[JoinedEvent, ...]:
        key = stream_key(line)
        joiner = self._joiners.get(key)
        if joiner is None:
            joiner = Joiner(self._rule_for(line.topic, line.source))
            self._joiners[key] = joiner
        return joiner.feed(line, now_ms)

    def flush_due(self, now_ms: int) -> list[JoinedEvent]:
        """Pending events of the streams that went quiet, oldest first offset first per stream."""
        due = [event for joiner in self._joiners.values() if (event := joiner.flush_due(now_ms)) is not None]
        self._forget_idle()
        return due

    def flush(self) -> list[JoinedEvent]:
        """Every pending event (end of input)."""
        done = [event for joiner in self._joiners.values() if (event := joiner.flush()) is not None]
        self._joiners.clear()
        return done

    def _forget_idle(self) -> None:
        # A stream with nothing pending needs no joiner: its next line makes a fresh one.
        for key in [key for key, joiner in self._joiners.items() if joiner.pending_lines == 0]:
            del self._joiners[key]

    def __len__(self) -> int:
        return len(self._joiners)


def join_all(lines: Iterable[StreamLine], rule_for: RuleFor, now_ms: int = 0) -> Iterator[JoinedEvent]:
    """Every event of ``lines`` (no timeout flush: all at ``now_ms``), pending ones at the end."""
    pool = JoinerPool(rule_for)
    for line in lines:
        yield from pool.feed(line, now_ms)
    yield from pool.flush()
