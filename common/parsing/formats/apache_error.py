"""Apache httpd error log, 2.2 (``[Sun Dec 04 04:47:44 2005] [notice] msg``) and 2.4
(``[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328] [client 1.2.3.4:5678] msg``)."""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import REJECT, Context, StampFields, stamp_cache_slot
from common.parsing.format import Format, Line
from common.parsing.levels import normalize_level
from common.parsing.timestamps import MONTH_DIGITS

_ERROR_RE: Final = re.compile(
    r"\[[A-Za-z]{3} ([A-Za-z]{3} \d\d? \d\d:\d\d:\d\d)(?:\.(\d{1,9}))? (\d{4})\] "
    r"\[(?:([\w\-]+):)?([a-z]+\d?)\]"
    r"(?: \[pid (\d+)(?::tid (\d+))?\])?(?: \[client ([^\]]+)\])? ?(.*)",
    re.DOTALL,
)


def _fields(key: str) -> StampFields | None:
    # "Oct 11 14:32:52 2000" or "Oct 1 14:32:52 2000"
    month = MONTH_DIGITS.get(key[0:3])
    if month is None:
        return None
    day, clock, year = key[4:].split(" ")
    return year, month, day if len(day) == 2 else "0" + day, clock[0:2], clock[3:5], clock[6:8], None


_SLOT: Final = stamp_cache_slot()


def _parse(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _ERROR_RE.match(text)
    if m is None:
        return None
    stamp, frac, y, module, source_level, pid, tid, client, msg = m.groups()
    # 2.4 writes trace1..trace8 for its trace levels
    level = normalize_level(source_level.rstrip("0123456789"))
    if level is None:
        return None
    ts = ctx.cached_stamp(_SLOT, f"{stamp} {y}", frac or "", _fields)
    if ts == REJECT:  # not a month name
        return None
    log: dict[str, Any] = {"level": level}
    if module is not None:
        log["logger"] = module
    rec: dict[str, Any] = {
        "@timestamp": ts,
        "message": msg,
        "log": log,
        "event": {"dataset": "apache.error"},
    }
    if pid is not None:
        process: dict[str, Any] = {"pid": int(pid)}
        if tid is not None:
            process["thread"] = {"id": int(tid)}
        rec["process"] = process
    if client is not None:
        address, sep, port = client.rpartition(":")
        if sep and port.isdecimal() and address.count(":") != 1:
            rec["source"] = {"address": address.strip("[]"), "ip": address.strip("[]"), "port": int(port)}
        else:
            rec["source"] = {"address": client, "ip": client}
    return rec


FORMAT: Final = Format(
    "apache_error", ("apache.error",), (Line(_parse, "[", 30, claims="not text[1:2].isdecimal()"),)
)
