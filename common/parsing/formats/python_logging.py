"""Python ``logging`` and OpenStack ``oslo.log`` lines.

``INFO:root:msg`` (``logging.basicConfig`` default), ``<ts> - name - LEVEL - msg`` (the cookbook
format) and ``<ts> 25746 INFO nova.compute.manager [req-... - - -] msg`` (oslo.log). Lines shaped
``<ts> LEVEL name: msg`` are the same for Python and log4j and are reported as ``log4j``.
"""

from __future__ import annotations

import re
from typing import Any

from common.parsing.context import Context
from common.parsing.levels import normalize_level

_BASIC_RE = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL|NOTSET):([^:\s]*):(.*)", re.DOTALL)
_COOKBOOK_RE = re.compile(r" - ([\w.\-]+) - ([A-Za-z]+) - (.*)", re.DOTALL)
_OSLO_RE = re.compile(r" (\d+) ([A-Za-z]+) ([\w.\-]+) (?:\[([^\]]*)\] ?)?(.*)", re.DOTALL)


def _record(ts: str | None, level: str, logger: str, msg: str) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "message": msg,
        "log": {"level": level, "logger": logger},
        "event": {"dataset": "python"},
    }
    if ts != "":
        rec["@timestamp"] = ts
    return rec


def parse_basic(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _BASIC_RE.match(text)
    if m is None:
        return None
    level = "debug" if m.group(1) == "NOTSET" else normalize_level(m.group(1))
    assert level is not None
    return _record("", level, m.group(2), m.group(3))


def parse_tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    if rest.startswith(" - "):
        m = _COOKBOOK_RE.match(rest)
        if m is None:
            return None
        level = normalize_level(m.group(2))
        return None if level is None else _record(ts, level, m.group(1), m.group(3))
    m = _OSLO_RE.match(rest)
    if m is None:
        return None
    level = normalize_level(m.group(2))
    if level is None:
        return None
    rec = _record(ts, level, m.group(3), m.group(5))
    rec["process"] = {"pid": int(m.group(1))}
    if m.group(4) is not None:
        rec["labels"] = {"request_context": m.group(4)}
    return rec
