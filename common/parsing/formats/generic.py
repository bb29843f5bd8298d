"""Lines that start with a recognisable timestamp but match no named format (``event.dataset: generic``).

An optional level word (``INFO``, ``[warn]``, ``<E>``, ``ERROR:``) right after the stamp, perhaps after a
pid or thread number, is taken too.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.levels import normalize_level

# A pid/thread number may come first: "<ts> 0 [Warning] ..." (MySQL), "<ts> [123] LOG: ..." (PostgreSQL).
_LEVEL_RE: Final = re.compile(
    r"[\s,\-|]*(?:\[?\d+\]?:?\s+)?[\[<(]?([A-Za-z]{1,11})[\]>)]?:?(?:\s+|$)(.*)", re.DOTALL
)
# All-caps words that are levels only in this position.
_EXTRA_LEVELS: Final = {"LOG": "info"}
_SEPARATORS = " \t,|-:]"


def parse_tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
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
