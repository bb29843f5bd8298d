"""Python ``logging`` and OpenStack ``oslo.log`` lines.

``INFO:root:msg`` (``logging.basicConfig`` default), ``<ts> - name - LEVEL - msg`` (the cookbook
format) and ``<ts> 25746 INFO nova.compute.manager [req-... - - -] msg`` (oslo.log). Lines shaped
``<ts> LEVEL name: msg`` are the same for Python and log4j and are reported as ``log4j``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import UPPER, AfterStamp, Format, Line
from common.parsing.levels import normalize_level
from common.parsing.numbers import INTS, to_int

_BASIC_RE: Final = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL|NOTSET):([^:\s]*):(.*)", re.DOTALL)
_COOKBOOK_RE: Final = re.compile(r" - ([\w.\-]+) - ([A-Za-z]+) - (.*)", re.DOTALL)
_OSLO_RE: Final = re.compile(r" (\d+) ([A-Za-z]+) ([\w.\-]+) (?:\[([^\]]*)\] ?)?(.*)", re.DOTALL)


def _record(ts: str | None, level: str, logger: str, msg: str) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "message": msg,
        "log": {"level": level, "logger": logger},
        "event": {"dataset": "python"},
    }
    if ts != "":
        rec["@timestamp"] = ts
    return rec


def _basic(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _BASIC_RE.match(text)
    if m is None:
        return None
    level = "debug" if m.group(1) == "NOTSET" else normalize_level(m.group(1))
    assert level is not None
    return _record("", level, m.group(2), m.group(3))


def _tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    second = rest[1:2]
    if second == "-":
        if rest[:3] != " - ":
            return None
        m = _COOKBOOK_RE.match(rest)
        if m is None:
            return None
        logger, word, msg = m.groups()
        level = normalize_level(word)
        return None if level is None else _record(ts, level, logger, msg)
    if not second.isdecimal():  # oslo.log: a pid first
        return None
    m = _OSLO_RE.match(rest)
    if m is None:
        return None
    pid, word, logger, context, msg = m.groups()
    level = normalize_level(word)
    if level is None:
        return None
    rec = _record(ts, level, logger, msg)
    rec["process"] = {"pid": INTS.get(pid) or to_int(pid)}
    if context is not None:
        rec["labels"] = {"request_context": context}
    return rec


FORMAT: Final = Format("python", ("python",), (Line(_basic, UPPER, 40), AfterStamp(_tail, " ", 40)))
