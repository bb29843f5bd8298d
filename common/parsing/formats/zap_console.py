"""zap's console encoder (Go: ``zap.NewDevelopment``, controller-runtime, many operators).

``2024-03-14T10:21:33.123Z<TAB>INFO<TAB>[logger<TAB>][caller.go:12<TAB>]message[<TAB>{"key": "value"}]``

The time is parsed by detect; the level is in capitals. The logger name and the caller are
optional; a caller is a ``file.go:line``. The trailing JSON object holds the structured fields,
which become labels, except a string ``error`` (zap.Error), which is ``error.message``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import AFTER_OTHER, AfterStamp, Format
from common.parsing.formats.json_lines import flat_labels
from common.parsing.levels import normalize_level

_CALLER_RE: Final = re.compile(r"([\w.@/\-]+\.go):(\d+)$")


def _tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    """``rest`` is what follows the time, starting with its tab."""
    parts = rest[1:].split("\t")
    word = parts[0]
    if len(parts) < 2 or not word.isupper():
        return None
    level = normalize_level(word)
    if level is None:
        return None
    log: dict[str, Any] = {"level": level}
    rec: dict[str, Any] = {"@timestamp": ts, "log": log, "event": {"dataset": "zap"}}
    fields = parts[1:]
    context = fields[-1]
    if len(fields) > 1 and context.startswith("{") and context.endswith("}"):
        try:
            obj = json.loads(context)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict):
            fields.pop()
            error = obj.pop("error", None)
            if isinstance(error, str):
                rec["error"] = {"message": error}
            elif error is not None:
                obj["error"] = error
            tags: list[str] = []
            labels = flat_labels(obj, ctx, tags)
            if labels:
                rec["labels"] = labels
            if tags:
                rec["tags"] = tags
    if len(fields) > 2 and " " not in fields[0] and _CALLER_RE.match(fields[1]):
        log["logger"] = fields.pop(0)
    if len(fields) > 1:
        caller = _CALLER_RE.match(fields[0])
        if caller is not None:
            fields.pop(0)
            log["origin"] = {"file": {"name": caller.group(1), "line": int(caller.group(2))}}
    rec["message"] = "\t".join(fields)
    return rec


FORMAT: Final = Format("zap", ("zap",), (AfterStamp(_tail, AFTER_OTHER, 10, claims='rest[:1] == "\\t"'),))
