"""HAProxy's HTTP and TCP logs (``option httplog`` / ``option tcplog``), usually inside syslog.

``1.2.3.4:5 [14/Mar/2024:10:21:33.123] fe be/srv1 0/0/1/2/3 200 612 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"``
(HTTP) and ``... tcp-in tcp-be/db1 0/0/5007 212 -- 1/1/1/1/0 0/0`` (TCP).

The accept date carries no zone (HAProxy writes local time): it is read like any zone-less stamp.
The last timer is the total time in milliseconds (``event.duration``, in nanoseconds as ECS wants);
``-1`` timers mean "did not happen" and are left out. Names and the termination state go to labels.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import REJECT, Context, stamp_cache_slot
from common.parsing.format import DIGIT, PAYLOAD, Format, Line
from common.parsing.formats.access import add_request_line, clf_stamp_fields, source_of

_HAPROXY_RE: Final = re.compile(
    r"(\S+):(\d{1,5}) \[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\] "
    r"(\S+) ([^/\s]+)/(\S+) "
    r"(-?\d+(?:/-?\d+){2,4}) (?:(\d{3}|-1) )?\+?(\d+) "
    r"(?:(\S+) (\S+) )?(\S{2,4}) (\d+/\d+/\d+/\d+/\+?\d+) (\d+/\d+)"
    r'(?: (?:\{[^}]*\} )*"((?:[^"\\]|\\.)*)")?$',
    re.DOTALL,
)


_SLOT: Final = stamp_cache_slot()


def _parse(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _HAPROXY_RE.match(text)
    if m is None:
        return None
    (client, port, stamp, frac, frontend, backend, server, timers, status, size, _req_cookie,
     _res_cookie, termination, _conns, _queues, request) = m.groups()  # fmt: skip
    ts = ctx.cached_stamp(_SLOT, stamp, frac or "", clf_stamp_fields)
    if ts == REJECT:  # not a month name
        return None
    source = source_of(client)
    source["port"] = int(port)
    labels = {
        "haproxy_frontend": frontend,
        "haproxy_backend": backend,
        "haproxy_server": server,
        "haproxy_termination_state": termination,
    }
    rec: dict[str, Any] = {
        "@timestamp": ts,
        "message": request if request is not None else text,
        "source": source,
        "labels": labels,
        "event": {"dataset": "haproxy"},
    }
    total = int(timers.rsplit("/", 1)[1])
    if total >= 0:
        rec["event"]["duration"] = total * 1_000_000
    http: dict[str, Any] = {}
    if status is not None and status != "-1":
        http["response"] = {"status_code": int(status), "body": {"bytes": int(size)}}
    if request is not None:
        add_request_line(request, rec, http)
    if http:
        rec["http"] = http
    elif status is None:  # a TCP log: the bytes the server sent to the client
        rec["destination"] = {"bytes": int(size)}
    return rec


FORMAT: Final = Format(
    "haproxy",
    ("haproxy",),
    (
        Line(_parse, DIGIT, 45, claims='" [" in text'),
        Line(_parse, PAYLOAD, 50, claims='text[:1].isdecimal() and " [" in text[:48]'),
    ),
)
