"""Apache httpd error log, 2.2 (``[Sun Dec 04 04:47:44 2005] [notice] msg``) and 2.4
(``[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328] [client 1.2.3.4:5678] msg``)."""

from __future__ import annotations

import re
from typing import Any

from common.parsing.context import Context
from common.parsing.levels import normalize_level
from common.parsing.timestamps import MONTH_DIGITS

_ERROR_RE = re.compile(
    r"\[[A-Za-z]{3} ([A-Za-z]{3}) (\d\d?) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (\d{4})\] "
    r"\[(?:([\w\-]+):)?([a-z]+\d?)\]"
    r"(?: \[pid (\d+)(?::tid (\d+))?\])?(?: \[client ([^\]]+)\])? ?(.*)",
    re.DOTALL,
)


def parse(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _ERROR_RE.match(text)
    if m is None:
        return None
    mon, d, h, mi, s, frac, y, module, source_level, pid, tid, client, msg = m.groups()
    month = MONTH_DIGITS.get(mon)
    # 2.4 writes trace1..trace8 for its trace levels
    level = normalize_level(source_level.rstrip("0123456789"))
    if month is None or level is None:
        return None
    log: dict[str, Any] = {"level": level}
    if module is not None:
        log["logger"] = module
    rec: dict[str, Any] = {
        "@timestamp": ctx.stamp_text(y, month, d if len(d) == 2 else "0" + d, h, mi, s, frac or ""),
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
        if sep and port.isdigit() and address.count(":") != 1:
            rec["source"] = {"address": address.strip("[]"), "ip": address.strip("[]"), "port": int(port)}
        else:
            rec["source"] = {"address": client, "ip": client}
    return rec
