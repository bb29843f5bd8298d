"""Android logcat: ``threadtime`` (the default), ``time`` and ``brief`` output."""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context, StampFields, stamp_cache_slot
from common.parsing.format import DIGIT, UPPER, AfterStamp, Format, Line
from common.parsing.numbers import INTS, to_int

_LEVELS: Final = {
    "V": "trace",
    "D": "debug",
    "I": "info",
    "W": "warn",
    "E": "error",
    "F": "fatal",
    "A": "fatal",
}

# 03-17 16:13:38.811  1702  2395 D WindowManager: msg
_THREADTIME_RE: Final = re.compile(
    r"(\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3,6}) +(\d+) +(\d+) ([VDIWEFA]) (.*?) *:(?: |$)(.*)", re.DOTALL
)
# 03-17 16:13:38.811 D/WindowManager( 1702): msg
_TIME_RE: Final = re.compile(
    r"(\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3,6}) ([VDIWEFA])/(.*?)\( *(\d+)\): ?(.*)", re.DOTALL
)
# D/WindowManager( 1702): msg
_BRIEF_RE: Final = re.compile(r"([VDIWEFA])/([^(]*?)\( *(\d+)\): ?(.*)", re.DOTALL)
# after an ISO date (logcat -v year):  1702  2395 D WindowManager: msg
_YEAR_TAIL_RE: Final = re.compile(r" +(\d+) +(\d+) ([VDIWEFA]) (.*?) *:(?: |$)(.*)", re.DOTALL)


def _record(ts: str | None, level: str, tag: str, pid: str, tid: str | None, msg: str) -> dict[str, Any]:
    process: dict[str, Any] = {"pid": INTS.get(pid) or to_int(pid)}
    if tid is not None:
        process["thread"] = {"id": INTS.get(tid) or to_int(tid)}
    rec: dict[str, Any] = {
        "message": msg,
        "log": {"level": _LEVELS[level], "logger": tag},
        "process": process,
        "event": {"dataset": "android.logcat"},
    }
    if ts != "":
        rec["@timestamp"] = ts
    return rec


def _fields(key: str) -> StampFields:
    # "MM-DD HH:MM:SS": no year, no zone
    return None, key[0:2], key[3:5], key[6:8], key[9:11], key[12:14], None


_SLOT: Final = stamp_cache_slot(yearless=True)


def _threadtime(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _THREADTIME_RE.match(text)
    if m is not None:
        stamp, frac, pid, tid, level, tag, msg = m.groups()
        ts = ctx.cached_yearless_stamp(_SLOT, stamp, frac, _fields)
        return _record(ts, level, tag, pid, tid, msg)
    m = _TIME_RE.match(text)
    if m is not None:
        stamp, frac, level, tag, pid, msg = m.groups()
        ts = ctx.cached_yearless_stamp(_SLOT, stamp, frac, _fields)
        return _record(ts, level, tag.strip(), pid, None, msg)
    return None


def _brief(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _BRIEF_RE.match(text)
    if m is None:
        return None
    level, tag, pid, msg = m.groups()
    return _record("", level, tag.strip(), pid, None, msg)


def _year_tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    m = _YEAR_TAIL_RE.match(rest)
    if m is None:
        return None
    pid, tid, level, tag, msg = m.groups()
    return _record(ts, level, tag, pid, tid, msg)


_SPACE_OR_DIGIT: Final = frozenset(" 0123456789")

FORMAT: Final = Format(
    "logcat",
    ("android.logcat",),
    (
        Line(_threadtime, DIGIT, 20, claims='text[2:3] == "-"'),  # threadtime and time
        Line(_brief, UPPER, 20, claims='text[1:2] == "/"'),
        AfterStamp(_year_tail, " ", 50, claims="rest[1:2] in _SPACE_OR_DIGIT"),  # -v year
    ),
)
