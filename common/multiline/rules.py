"""A joining rule, compiled: what starts, continues and ends an event, and the bounds of one.

Two kinds. A built-in rule set (``auto``, ``java``, ``python``, ``go``, ``dotnet``, ``node``,
``indent``, ``none``; see shapes.py). Or a pattern rule in Vector's terms, to which Filebeat's
``pattern``/``negate``/``match`` maps (config.py does the mapping):

- ``continue_through``: lines matching the condition join the event;
- ``continue_past``: the same, plus the first line that does not match, which ends the event;
- ``halt_before``: lines not matching the condition join; a matching line starts the next event;
- ``halt_with``: lines not matching join; a matching line joins and ends the event.

``start`` (Vector's ``start_pattern``) says which lines may begin an event at all; a line that
neither continues the pending event nor may start one is an event by itself. ``negate`` inverts the
condition (Filebeat's ``negate``). Patterns are RE2 searches (linear time, whatever the pattern).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from common.multiline.shapes import ALONE, BUILTINS, CONTINUE, CONTINUE_LAST, NO_TRACE, START, classify

CONTINUE_THROUGH: Final = 0
CONTINUE_PAST: Final = 1
HALT_BEFORE: Final = 2
HALT_WITH: Final = 3
MODES: Final[dict[str, int]] = {
    "continue_through": CONTINUE_THROUGH,
    "continue_past": CONTINUE_PAST,
    "halt_before": HALT_BEFORE,
    "halt_with": HALT_WITH,
}

DEFAULT_MAX_LINES: Final = 500
DEFAULT_MAX_BYTES: Final = 256 * 1024  # as LOGFLOW_PARSE_MAX_BYTES: a joined event is parsed whole
DEFAULT_TIMEOUT_MS: Final = 1000

LineTest = Callable[[str], bool]


def _always(text: str) -> bool:
    return True


class JoinRule:
    """One compiled rule: ``classify`` decides each line; the bounds cap each event."""

    def __init__(
        self,
        name: str,
        *,
        builtin: str | None = None,
        mode: int = CONTINUE_THROUGH,
        condition: LineTest | None = None,
        start: LineTest | None = None,
        negate: bool = False,
        max_lines: int = DEFAULT_MAX_LINES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> None:
        if (builtin is None) == (condition is None):
            raise ValueError("a rule is either a built-in rule set or a condition pattern")
        if builtin is not None and builtin not in BUILTINS:
            raise ValueError(f"unknown built-in rule set {builtin!r}; known: {', '.join(BUILTINS)}")
        if max_lines < 1 or max_bytes < 1 or timeout_ms < 1:
            raise ValueError("max_lines, max_bytes and timeout_ms must be at least 1")
        self.name = name
        self.builtin = builtin
        self.features = BUILTINS[builtin] if builtin is not None else 0
        self.mode = mode
        self.condition: LineTest = condition if condition is not None else _always
        self.start: LineTest = start if start is not None else _always
        self.negate = negate
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.timeout_ms = timeout_ms

    def __repr__(self) -> str:
        kind = f"builtin={self.builtin}" if self.builtin is not None else f"mode={self.mode}"
        return f"JoinRule({self.name!r}, {kind}, max_lines={self.max_lines}, max_bytes={self.max_bytes})"

    def classify(self, text: str, count: int, state: int, first: str) -> tuple[int, int]:
        """``(decision, trace state)`` for ``text`` with ``count`` lines pending (shapes.py's codes).

        ``first`` is the pending event's first line, ``""`` when none is pending.
        """
        if self.builtin is not None:
            return classify(self.features, text, count, state, first)
        matched = self.condition(text) != self.negate
        mode = self.mode
        if count > 0:
            if mode == CONTINUE_THROUGH:
                if matched:
                    return CONTINUE, NO_TRACE
            elif mode == CONTINUE_PAST:
                # A pending event is open: its last line matched, so this one joins whatever it is.
                return (CONTINUE if matched else CONTINUE_LAST), NO_TRACE
            elif mode == HALT_BEFORE:
                if not matched:
                    return CONTINUE, NO_TRACE
            else:  # HALT_WITH
                return (CONTINUE_LAST if matched else CONTINUE), NO_TRACE
        if not self.start(text):
            return ALONE, NO_TRACE
        if mode == CONTINUE_PAST and not matched:
            return ALONE, NO_TRACE
        if mode == HALT_WITH and matched:
            return ALONE, NO_TRACE
        return START, NO_TRACE
