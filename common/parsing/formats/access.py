"""Web server access logs: NCSA common and combined, with an optional trailing X-Forwarded-For.

nginx's and Apache's combined formats are identical on the wire, so the dataset is a convention:
a line with a referer and user agent is ``nginx.access`` (nginx's stock format); the bare common
format, which nginx does not ship, is ``apache.access``. ``message`` holds the request line.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import REJECT, Context, StampFields, stamp_cache_slot
from common.parsing.format import DIGIT, LOWER, OTHER, PAYLOAD, UPPER, Format, Line
from common.parsing.numbers import INTS, to_int
from common.parsing.timestamps import MONTH_DIGITS

# Unrolled "quoted string with backslash escapes": far fewer regex steps than (?:[^"\\]|\\.)*
_QUOTED: Final = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
_ACCESS_RE: Final = re.compile(
    r"(\S+) (\S+) (\S+|\"[^\"]*\") "
    r"\[(\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d)(?:\.(\d{1,6}))? ([+-]\d{4})\] "
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
_REQUEST_RE: Final = re.compile(r"([A-Z][A-Z_\-]*) (\S+)(?: HTTP/(\d(?:\.\d)?))?$")
_IP_RE: Final = re.compile(r"[0-9.]+$|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$")


def add_request_line(request: str, rec: dict[str, Any], http: dict[str, Any]) -> None:
    """``GET /x HTTP/1.1`` into ``http`` (method, version) and ``rec["url"]``; other text is left out."""
    req = _REQUEST_RE.match(request)
    if req is not None:
        method, url, version = req.groups()
        http["request"] = {"method": method}
        rec["url"] = {"original": url}
        if version:
            http["version"] = version


def source_of(client: str) -> dict[str, Any]:
    """ECS ``source`` for a logged client: ``ip`` when it is an address, ``domain`` when a name."""
    return {"ip": client} if _IP_RE.match(client) else {"domain": client}


def clf_stamp_fields(key: str) -> StampFields | None:
    """The fields of a Common Log Format stamp, ``10/Oct/2000:13:55:36`` plus an optional
    ``-0700`` (HAProxy writes the same stamp without a zone)."""
    month = MONTH_DIGITS.get(key[3:6])
    if month is None:
        return None
    offset = None
    if len(key) > 20:
        offset = int(key[21:23]) * 3600 + int(key[23:25]) * 60
        if key[20] == "-":
            offset = -offset
    return key[7:11], month, key[0:2], key[12:14], key[15:17], key[18:20], offset


_SLOT: Final = stamp_cache_slot()


def _parse(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _ACCESS_RE.match(text)
    if m is None:
        return None
    client, ident, user, stamp, frac, zone, request, status, size, referrer, agent, forwarded, extra = (
        m.groups()
    )
    ts = ctx.cached_stamp(_SLOT, stamp + zone, frac or "", clf_stamp_fields)
    if ts == REJECT:  # not a month name
        return None
    rec: dict[str, Any] = {
        "@timestamp": ts,
        "message": request,
        "event": {"dataset": "apache.access" if agent is None else "nginx.access"},
        "source": source_of(client),
    }
    http: dict[str, Any] = {}
    add_request_line(request, rec, http)
    if status != "-":
        if size != "-":
            http["response"] = {
                "status_code": INTS.get(status) or to_int(status),
                "body": {"bytes": INTS.get(size) or to_int(size)},
            }
        else:
            http["response"] = {"status_code": INTS.get(status) or to_int(status)}
    elif size != "-":
        http["response"] = {"body": {"bytes": INTS.get(size) or to_int(size)}}
    if referrer is not None and referrer != "-":
        http.setdefault("request", {})["referrer"] = referrer
    if http:
        rec["http"] = http
    if agent is not None and agent != "-":
        rec["user_agent"] = {"original": agent}
    user = user.strip('"')
    if user != "-" and user:
        rec["user"] = {"name": user}
    if ident != "-" or forwarded is not None or extra:
        labels: dict[str, str] = {}
        if ident != "-":
            labels["ident"] = ident
        if forwarded is not None and forwarded != "-":
            labels["x_forwarded_for"] = forwarded
        extra = extra.strip()
        if extra:
            labels["access_extra"] = extra
        if labels:
            rec["labels"] = labels
    return rec


FORMAT: Final = Format(
    "access",
    ("nginx.access", "apache.access"),
    (
        Line(_parse, DIGIT, 40, claims='" [" in text'),
        Line(_parse, UPPER, 60, claims='" [" in text'),
        Line(_parse, LOWER, 20, claims='" [" in text'),
        Line(_parse, OTHER, 10, claims='" [" in text'),
        Line(_parse, PAYLOAD, 40, claims="'] \"' in text"),
    ),
)
