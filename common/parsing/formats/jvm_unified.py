"""JVM unified logging (``-Xlog``, JDK 9+): ``[2024-03-14T10:21:33.123+0000][info][gc] GC(0) Pause Young``.

Each decoration is in brackets, in the JVM's fixed order: time, uptime, pid, tid, level, tags. The
time (when present) was parsed by detect; what follows is offered here. The tags (``gc,heap``) are
the logger. Numeric decorations before the level are the pid and then the thread id.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import AFTER_OTHER, AfterStamp, Format, Line
from common.parsing.levels import normalize_level

_JVM_RE: Final = re.compile(
    r"((?:\[[0-9.]+(?:s|ms|ns)?\])*)\[(trace|debug|info|warning|error) *\]\[([a-z0-9_,]+) *\](?: (.*))?$",
    re.DOTALL,
)


def _tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    """``rest`` starts right after the time decoration (``ts``, None when it was impossible)."""
    rec = _untimed(rest, ctx)
    if rec is not None:
        rec["@timestamp"] = ts
    return rec


def _untimed(text: str, ctx: Context) -> dict[str, Any] | None:
    """A line without a time decoration (``[0.012s][info][gc] ...``): the record gets ingest time."""
    m = _JVM_RE.match(text)
    if m is None:
        return None
    decorations, word, tags, msg = m.groups()
    rec: dict[str, Any] = {
        "message": msg or "",
        "log": {"level": normalize_level(word), "logger": tags},
        "event": {"dataset": "jvm"},
    }
    ids = [int(d) for d in decorations[1:-1].split("][") if d.isdecimal()] if decorations else []
    if ids:
        process: dict[str, Any] = {"pid": ids[0]}
        if len(ids) > 1:
            process["thread"] = {"id": ids[1]}
        rec["process"] = process
    return rec


FORMAT: Final = Format(
    "jvm_unified",
    ("jvm",),
    (
        # Without a time decoration a line starts with the uptime: "[0.012s][info][gc]".
        Line(_untimed, "[", 20, claims="text[1:2].isdecimal()"),
        AfterStamp(_tail, AFTER_OTHER, 20, claims='rest[:1] == "[" and start'),
    ),
)
