"""Redis server log: ``1:M 10 Nov 2023 08:00:00.123 * Ready to accept connections``.

The role letter (X sentinel, C child, S replica, M master) goes to ``labels.redis_role``; the marker is
the level: ``.`` debug, ``-`` verbose (trace), ``*`` notice, ``#`` warning.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import DIGIT, Format, Line
from common.parsing.timestamps import MONTH_DIGITS

_REDIS_RE: Final = re.compile(
    r"(\d+):([XCSM]) (\d\d?) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([.\-*#]) (.*)",
    re.DOTALL,
)
_LEVELS: Final = {".": "debug", "-": "trace", "*": "notice", "#": "warn"}


def _parse(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _REDIS_RE.match(text)
    if m is None:
        return None
    pid, role, d, mon, y, h, mi, s, frac, marker, msg = m.groups()
    month = MONTH_DIGITS.get(mon)
    if month is None:
        return None
    return {
        "@timestamp": ctx.stamp_text(y, month, d if len(d) == 2 else "0" + d, h, mi, s, frac or ""),
        "message": msg,
        "log": {"level": _LEVELS[marker]},
        "process": {"pid": int(pid), "name": "redis-server"},
        "labels": {"redis_role": role},
        "event": {"dataset": "redis"},
    }


FORMAT: Final = Format("redis", ("redis",), (Line(_parse, DIGIT, 30, claims='":" in text[1:8]'),))
