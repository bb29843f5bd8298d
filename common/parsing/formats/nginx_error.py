"""nginx error log: ``2024/03/14 10:21:33 [error] 1234#1234: *5678 open() failed, client: 10.0.0.5, ...``.

After the stamp (parsed by detect) come the level, ``pid#tid:``, and, when a connection is
involved, ``*connection-id``. nginx appends what it knows about the request as ``, key: value``
pairs (``client``, ``server``, ``request``, ``upstream``, ``host``, ``referrer``); those become
ECS fields too and stay in ``message``, which is the error text as nginx wrote it.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import PAYLOAD, AfterStamp, Format, Line
from common.parsing.formats.access import add_request_line, source_of
from common.parsing.levels import normalize_level

_HEADER_RE: Final = re.compile(r" \[([a-z]+)\] (\d+)#(\d+): (?:\*(\d+) )?(.*)", re.DOTALL)
# The context nginx appends (ngx_http_log_error): quoted values may hold ", ", bare ones may not.
_CONTEXT_START: Final = ", client: "
_CONTEXT_PAIR_RE: Final = re.compile(r', ([a-z][a-z ]*[a-z]): (?:"((?:[^"\\]|\\.)*)"|([^,"]*))(?=, [a-z]|$)')
_LABELED: Final = {"server": "server_name", "upstream": "upstream", "subrequest": "subrequest"}


def _tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    """``rest`` is what follows the ``yyyy/MM/dd HH:mm:ss`` stamp."""
    m = _HEADER_RE.match(rest)
    if m is None:
        return None
    word, pid, tid, connection, msg = m.groups()
    level = normalize_level(word)
    if level is None:
        return None
    rec: dict[str, Any] = {
        "@timestamp": ts,
        "message": msg,
        "log": {"level": level},
        "process": {"pid": int(pid), "thread": {"id": int(tid)}},
        "event": {"dataset": "nginx.error"},
    }
    labels: dict[str, Any] = {}
    if connection is not None:
        labels["connection_id"] = int(connection)
    start = msg.rfind(_CONTEXT_START)
    if start >= 0:
        _add_context(rec, labels, msg[start:])
    if labels:
        rec["labels"] = labels
    return rec


def _add_context(rec: dict[str, Any], labels: dict[str, Any], context: str) -> None:
    pairs: dict[str, str] = {}
    end = 0
    for m in _CONTEXT_PAIR_RE.finditer(context):
        if m.start() != end:  # not nginx's context after all: keep only the message
            return
        quoted, bare = m.group(2), m.group(3)
        pairs[m.group(1)] = quoted if quoted is not None else bare
        end = m.end()
    if end != len(context):
        return
    client = pairs.get("client")
    if client:
        rec["source"] = source_of(client)
    request = pairs.get("request")
    if request:
        http: dict[str, Any] = {}
        add_request_line(request, rec, http)
        if http:
            rec["http"] = http
    host = pairs.get("host")
    if host:
        rec.setdefault("url", {})["domain"] = host
    referrer = pairs.get("referrer")
    if referrer:
        rec.setdefault("http", {}).setdefault("request", {})["referrer"] = referrer
    for key, label in _LABELED.items():
        value = pairs.get(key)
        if value:
            labels[label] = value


FORMAT: Final = Format(
    "nginx_error",
    ("nginx.error",),
    (
        AfterStamp(_tail, " ", 10, claims='style == "slash" and not start and rest[:2] == " ["'),
        # nginx's error_log sent to syslog keeps its own stamp (detect._nginx_payload reads it).
        Line("_nginx_payload", PAYLOAD, 60, claims='text[4:5] == "/" and " [" in text[19:30]'),
    ),
)
