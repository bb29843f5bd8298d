"""logfmt: ``time=... level=info msg="hello \\"you\\"" user=bob``.

Known keys fill ECS fields (time/ts/t, level/lvl/severity, msg/message, logger/caller/...); every
other pair goes to ``labels`` as a string. A bare key (``key`` without ``=``) is ``"true"``.
"""

from __future__ import annotations

import re
from typing import Any

from common.parsing.context import Context
from common.parsing.labels import label_key
from common.parsing.levels import normalize_level
from common.parsing.timestamps import from_epoch, from_iso_text

_VALUE = r'(?:"[^"\\]*(?:\\.[^"\\]*)*"|[^\s"]*)'
_PAIR_RE = re.compile(r'([^\s="]+)(?:=(' + _VALUE + r"))?")
# The whole line must be pairs separated by blanks; checked in one C-level pass before splitting.
_LINE_RE = re.compile(r'[ \t]*[^\s="]+(?:=' + _VALUE + r')?(?:[ \t]+[^\s="]+(?:=' + _VALUE + r")?)*[ \t]*")
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}

_TIME_KEYS = frozenset(("time", "ts", "t", "timestamp", "@timestamp", "date"))
_LEVEL_KEYS = frozenset(("level", "lvl", "severity", "loglevel", "log.level", "at"))  # "at": Heroku
_MESSAGE_KEYS = frozenset(("msg", "message"))


def _unquote(value: str) -> str:
    if value[:1] != '"':
        return value
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), inner)


def split_pairs(text: str) -> list[tuple[str, str | None]] | None:
    """The pairs of a whole logfmt line, or None unless the line is entirely ``key=value`` pairs."""
    if _LINE_RE.fullmatch(text) is None:
        return None
    return [(m.group(1), m.group(2)) for m in _PAIR_RE.finditer(text)]


def parse(text: str, ctx: Context) -> dict[str, Any] | None:
    if "=" not in text[:64] or "\n" in text:
        return None
    pairs = split_pairs(text)
    if pairs is None or pairs[0][1] is None or sum(1 for _, v in pairs if v is not None) < 2:
        return None
    rec: dict[str, Any] = {"event": {"dataset": "logfmt"}}
    labels: dict[str, str] = {}
    log: dict[str, Any] = {}
    for key, raw in pairs:
        value = "true" if raw is None else _unquote(raw)
        lowered = key.lower()
        if lowered in _MESSAGE_KEYS and "message" not in rec:
            rec["message"] = value
        elif lowered in _LEVEL_KEYS and "level" not in log:
            level = normalize_level(value)
            if level is None:
                labels[label_key(key)] = value
            else:
                log["level"] = level
        elif lowered in _TIME_KEYS and "@timestamp" not in rec:
            stamp = from_iso_text(ctx.now, ctx.zone, value)
            if stamp is None and value.replace(".", "", 1).isdigit():
                stamp = from_epoch(value)
            if stamp is None:
                labels[label_key(key)] = value
            else:
                rec["@timestamp"] = stamp
        elif lowered in ("logger", "component", "module") and "logger" not in log:
            log["logger"] = value
        elif lowered == "caller" and "origin" not in log:
            file_name, _, line = value.rpartition(":")
            if file_name and line.isdigit():
                log["origin"] = {"file": {"name": file_name, "line": int(line)}}
            else:
                labels[label_key(key)] = value
        elif len(labels) < ctx.max_labels:
            labels[label_key(key)] = value
    if "message" not in rec:
        rec["message"] = text
    if log:
        rec["log"] = log
    if labels:
        rec["labels"] = labels
    return rec
