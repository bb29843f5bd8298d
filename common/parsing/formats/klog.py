"""Kubernetes klog / glog: ``I0511 14:33:27.919223    8794 file.go:230] msg``."""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context, StampFields, stamp_cache_slot
from common.parsing.format import PAYLOAD, UPPER, Format, Line
from common.parsing.numbers import INTS, to_int

_KLOG_RE: Final = re.compile(
    r"([IWEF])(\d{4} \d\d:\d\d:\d\d)\.(\d{1,9}) +(\d+) ([^\s:\]]+):(\d+)\] ?(.*)", re.DOTALL
)
_LEVELS: Final = {"I": "info", "W": "warn", "E": "error", "F": "fatal"}


def _fields(key: str) -> StampFields:
    # "MMDD HH:MM:SS": klog carries no year and no zone
    return None, key[0:2], key[2:4], key[5:7], key[8:10], key[11:13], None


_SLOT: Final = stamp_cache_slot(yearless=True)


def _parse(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _KLOG_RE.match(text)
    if m is None:
        return None
    sev, stamp, frac, tid, file_name, line, msg = m.groups()
    return {
        "@timestamp": ctx.cached_yearless_stamp(_SLOT, stamp, frac, _fields),
        "message": msg,
        "log": {
            "level": _LEVELS[sev],
            "origin": {"file": {"name": file_name, "line": INTS.get(line) or to_int(line)}},
        },
        # the thread id is what glog prints there (often the pid)
        "process": {"thread": {"id": INTS.get(tid) or to_int(tid)}},
        "event": {"dataset": "klog"},
    }


_KLOG_START: Final = 'text[:1] in "IWEF" and text[1:2].isdecimal()'

FORMAT: Final = Format(
    "klog",
    ("klog",),
    (Line(_parse, UPPER, 10, claims=_KLOG_START), Line(_parse, PAYLOAD, 20, claims=_KLOG_START, final=True)),
)
