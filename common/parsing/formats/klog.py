"""Kubernetes klog / glog: ``I0511 14:33:27.919223    8794 file.go:230] msg``."""

from __future__ import annotations

import re
from typing import Any

from common.parsing.context import Context

_KLOG_RE = re.compile(
    r"([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,9}) +(\d+) ([^\s:\]]+):(\d+)\] ?(.*)", re.DOTALL
)
_LEVELS = {"I": "info", "W": "warn", "E": "error", "F": "fatal"}


def parse(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _KLOG_RE.match(text)
    if m is None:
        return None
    sev, mo, d, h, mi, s, frac, tid, file_name, line, msg = m.groups()
    return {
        # klog carries no year and no zone; the thread id is what glog prints there (often the pid).
        "@timestamp": ctx.stamp_text(None, mo, d, h, mi, s, frac),
        "message": msg,
        "log": {"level": _LEVELS[sev], "origin": {"file": {"name": file_name, "line": int(line)}}},
        "process": {"thread": {"id": int(tid)}},
        "event": {"dataset": "klog"},
    }
