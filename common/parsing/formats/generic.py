"""Lines that start with a recognisable timestamp but match no named format (``event.dataset: generic``).

An optional level word (``INFO``, ``[warn]``, ``<E>``, ``ERROR:``) right after the stamp, perhaps after a
pid or thread number, is taken too.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import ANY_FOLLOWER, DIGIT, AfterStamp, Format, Line
from common.parsing.levels import normalize_level

# A pid/thread number may come first: "<ts> 0 [Warning] ..." (MySQL), "<ts> [123] LOG: ..." (PostgreSQL).
_LEVEL_RE: Final = re.compile(
    r"[\s,\-|]*(?:\[?\d+\]?:?\s+)?[\[<(]?([A-Za-z]{1,11})[\]>)]?:?(?:\s+|$)(.*)", re.DOTALL
)
# All-caps words that are levels only in this position.
_EXTRA_LEVELS: Final = {"LOG": "info"}
_SEPARATORS = " \t,|-:]"


def _tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    rec: dict[str, Any] = {"@timestamp": ts, "event": {"dataset": "generic"}}
    m = _LEVEL_RE.match(rest)
    if m is not None:
        word, msg = m.groups()
        level = normalize_level(word) or _EXTRA_LEVELS.get(word)
        if level is not None and (len(word) > 1 or word.isupper()):
            rec["log"] = {"level": level}
            rec["message"] = msg
            return rec
    rec["message"] = rest.lstrip(_SEPARATORS)
    return rec


# Reading a leading timestamp is detection's own step (common.parsing.detect._timestamped): it offers
# the rest of the line to every format's AfterStamp entries, this one last.
FORMAT: Final = Format(
    "generic",
    ("generic",),
    (
        Line("_timestamped", DIGIT, 10, claims='text[4:5] == "-"'),  # ISO: the most common digit-led shape
        # yy/MM/dd, yyyy/MM/dd, "yyMMdd HHmmss", yyyyMMdd-HH:mm:ss, "d Mon yyyy": where their digits stop
        Line(
            "_timestamped",
            DIGIT,
            50,
            claims='text[4:5] != "-" and (text[2:3] == "/" or text[4:5] == "/" or text[6:7] == " "'
            ' or text[8:9] in _COMPACT_YEAR_SEPARATORS or text[1:2] == " ")',
            args="iso=False",
        ),
        # "[2023-11-10 08:00:00,123] INFO ..." (Kafka, many web frameworks)
        Line("_timestamped", "[", 10, claims="text[1:2].isdecimal()", args="start=1"),
        AfterStamp(_tail, ANY_FOLLOWER, 100),
    ),
)
