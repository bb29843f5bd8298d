"""The one interface of a log format: a module in ``common/parsing/formats`` declares ``FORMAT``.

A format is its name, the ``event.dataset`` values it gives, and its entries: where detection tries
which of its parsers, in what order, after what cheap test. Two kinds of parser:

- ``Line``: ``(text, ctx) -> record | None`` on a whole line (or a syslog/journald message), tried
  for the lines whose first character is in ``starts`` (``DIGIT``, ``UPPER``, ``LOWER``, ``OTHER``, or
  one character such as ``"{"``), or in a wrapper's message (``PAYLOAD``).
- ``AfterStamp``: ``(rest, ts, ctx) -> record | None`` on what follows a leading timestamp, which
  detection has read once (``ts`` is its ECS text, None when it named an impossible date), tried when
  ``rest`` starts as ``follows`` says (``END``: nothing follows, ``" "``, ``","``, ``AFTER_OTHER``).

Each entry has a ``priority`` (lower first; ties go by the registry's order) within each place it is
tried, and ``claims``: a Python expression over the line that must hold before the parser is tried,
or None. Detection is generated from the registry (``python -m common.parsing.formats.generate``),
so the claims are inlined where the parser is tried: a failed regex attempt costs several times
such a check. In ``Line`` claims the line is ``text``; in ``AfterStamp`` claims it is ``rest``, and
the stamp is described by ``style`` (``"iso"``, ``"slash"``, ``"compact"``, ``"compact-year"``,
``"day-month"``), ``separator`` (``"T"`` for an ISO stamp with one, else ``" "``), ``zone`` (an ISO
stamp's zone text, or None) and ``start`` (1 when the stamp was in brackets, else 0). Other names in
claims are the parser's module's own (constants such as ``_SPACE_OR_DIGIT``).

``opens``: the record is a syslog/journald wrapper whose message may hold a payload (JSON, logfmt,
klog, access logs...), which detection then parses too. ``final``: when the claims hold, this
parser's answer is detection's, None included. ``parse`` may also name a function of
``common.parsing.detect`` (detection's own steps: reading a leading timestamp, parsing lines nested
in JSON), and ``args`` adds arguments after the standard ones (source text, e.g. ``"parse_known"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

Record = dict[str, Any]
LineParser = Callable[..., "Record | None"]  # (text, ctx, *args)
StampedParser = Callable[..., "Record | None"]  # (rest, ts, ctx, *args)

# Where a Line is tried: by the line's first character (a digit, an upper- or lower-case ASCII
# letter or "_", any other) or one character of its own; or in a syslog/journald message.
DIGIT: Final = "digit"
UPPER: Final = "upper"
LOWER: Final = "lower"
OTHER: Final = "other"
PAYLOAD: Final = "payload"
LINE_CLASSES: Final = (DIGIT, UPPER, LOWER, OTHER)

# Where an AfterStamp is tried: by the first character after the stamp.
END: Final = "end"  # nothing follows the stamp
AFTER_OTHER: Final = "after-other"
FOLLOWS: Final = (END, " ", ",", AFTER_OTHER)
ANY_FOLLOWER: Final = FOLLOWS


@dataclass(frozen=True)
class Line:
    parse: LineParser | str
    starts: str | tuple[str, ...]
    priority: int
    claims: str | None = None
    opens: bool = False
    final: bool = False
    args: str = ""

    def places(self) -> tuple[str, ...]:
        return (self.starts,) if isinstance(self.starts, str) else self.starts


@dataclass(frozen=True)
class AfterStamp:
    parse: StampedParser | str
    follows: str | tuple[str, ...]
    priority: int
    claims: str | None = None
    opens: bool = False
    final: bool = False
    args: str = ""

    def places(self) -> tuple[str, ...]:
        return (self.follows,) if isinstance(self.follows, str) else self.follows


Entry = Line | AfterStamp


@dataclass(frozen=True)
class Format:
    name: str
    datasets: tuple[str, ...]
    entries: tuple[Entry, ...]
