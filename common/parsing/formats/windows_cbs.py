"""Windows Component-Based Servicing log (CBS.log): ``2016-09-28 04:30:30, Info   CBS    msg``."""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import AfterStamp, Format
from common.parsing.levels import normalize_level

_TAIL_RE: Final = re.compile(r", ([A-Za-z]+) +(?:([A-Za-z][\w\-]*) +)?(.*)", re.DOTALL)


def _tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    m = _TAIL_RE.match(rest)
    if m is None:
        return None
    source_level, component, msg = m.groups()
    log: dict[str, Any] = {}
    # CBS also writes "Perf" lines; they are informational timing records.
    level = "info" if source_level == "Perf" else normalize_level(source_level)
    if level is None:
        return None
    log["level"] = level
    if component is not None:
        log["logger"] = component
    return {"@timestamp": ts, "message": msg, "log": log, "event": {"dataset": "windows.cbs"}}


FORMAT: Final = Format("windows_cbs", ("windows.cbs",), (AfterStamp(_tail, ",", 10),))
