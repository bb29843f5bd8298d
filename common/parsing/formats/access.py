"""Web server access logs: NCSA common and combined, with an optional trailing X-Forwarded-For.

nginx's and Apache's combined formats are identical on the wire, so the dataset is a convention:
a line with a referer and user agent is ``nginx.access`` (nginx's stock format); the bare common
format, which nginx does not ship, is ``apache.access``. ``message`` holds the request line.
"""

from __future__ import annotations

import re
from typing import Any

from common.parsing.context import Context
from common.parsing.timestamps import MONTH_DIGITS

# Unrolled "quoted string with backslash escapes": far fewer regex steps than (?:[^"\\]|\\.)*
_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
_ACCESS_RE = re.compile(
    r"(\S+) (\S+) (\S+|\"[^\"]*\") "
    r"\[(\d\d)/([A-Za-z]{3})/(\d{4}):(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([+-]\d{4})\] "
    + _QUOTED
    + r" (\d{3}|-) (\d+|-)(?: "
    + _QUOTED
    + " "
    + _QUOTED
    + r")?(?: "
    + _QUOTED
    + r")?(.*)",
    re.DOTALL,
)
_REQUEST_RE = re.compile(r"([A-Z][A-Z_\-]*) (\S+)(?: HTTP/(\d(?:\.\d)?))?$")
_IP_RE = re.compile(r"[0-9.]+$|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$")


def parse(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _ACCESS_RE.match(text)
    if m is None:
        return None
    (
        client,
        ident,
        user,
        d,
        mon,
        y,
        h,
        mi,
        s,
        frac,
        zone,
        request,
        status,
        size,
        referrer,
        agent,
        forwarded,
        extra,
    ) = m.groups()
    month = MONTH_DIGITS.get(mon)
    if month is None:
        return None
    offset = int(zone[1:3]) * 3600 + int(zone[3:5]) * 60
    rec: dict[str, Any] = {
        "@timestamp": ctx.stamp_text(
            y, month, d, h, mi, s, frac or "", -offset if zone[0] == "-" else offset
        ),
        "message": request,
        "event": {"dataset": "apache.access" if agent is None else "nginx.access"},
    }
    rec["source"] = {"ip": client} if _IP_RE.match(client) else {"domain": client}
    http: dict[str, Any] = {}
    req = _REQUEST_RE.match(request)
    if req is not None:
        http["request"] = {"method": req.group(1)}
        rec["url"] = {"original": req.group(2)}
        if req.group(3):
            http["version"] = req.group(3)
    response: dict[str, Any] = {}
    if status != "-":
        response["status_code"] = int(status)
    if size != "-":
        response["body"] = {"bytes": int(size)}
    if response:
        http["response"] = response
    if referrer is not None and referrer != "-":
        http.setdefault("request", {})["referrer"] = referrer
    if http:
        rec["http"] = http
    if agent is not None and agent != "-":
        rec["user_agent"] = {"original": agent}
    user = user.strip('"')
    if user != "-" and user:
        rec["user"] = {"name": user}
    labels: dict[str, str] = {}
    if ident != "-":
        labels["ident"] = ident
    if forwarded is not None and forwarded != "-":
        labels["x_forwarded_for"] = forwarded
    if extra.strip():
        labels["access_extra"] = extra.strip()
    if labels:
        rec["labels"] = labels
    return rec
