"""journalctl's text outputs that differ from a BSD syslog file.

``short`` is byte-for-byte a BSD syslog line and is reported as ``syslog``; ``short-precise`` is
recognised by its sub-second digits in ``formats.syslog``. Here: ``short-full``
(``Tue 2023-11-21 02:48:00 UTC host tag[pid]: msg``), ``short-unix`` (``1700535280.123456 host ...``)
and ``short-iso``/``short-iso-precise`` (``2023-11-21T02:48:00+0000 host ...``, told apart from
rsyslog's RFC 3339 files by the colon-less offset).
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import DIGIT, UPPER, AfterStamp, Format, Line
from common.parsing.formats.syslog import read_host_and_tag
from common.parsing.timestamps import from_epoch, parse_offset

_FULL_RE: Final = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? "
    r"(UTC|GMT|[A-Z]{3,5}|[+-]\d\d:?\d\d) (.*)",
    re.DOTALL,
)
_UNIX_RE: Final = re.compile(r"(\d{9,11}\.\d{6}) (\S+ \S.*)", re.DOTALL)


def _full(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _FULL_RE.match(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, zone, rest = m.groups()
    # Abbreviations other than UTC/GMT are ambiguous (CST...); fall back to the configured zone.
    offset = parse_offset(zone)
    rec: dict[str, Any] = {
        "@timestamp": ctx.stamp_text(y, mo, d, h, mi, s, frac or "", offset),
        "event": {"dataset": "journald"},
    }
    read_host_and_tag(rest, rec)
    return rec


def _unix(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _UNIX_RE.match(text)
    if m is None:
        return None
    rec: dict[str, Any] = {"@timestamp": from_epoch(m.group(1)), "event": {"dataset": "journald"}}
    read_host_and_tag(m.group(2), rec)
    if "process" not in rec:  # "<epoch> word word" without a tag is not journald
        return None
    return rec


def _short_iso_tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    """`` host tag[pid]: msg`` after an RFC 3339 stamp whose offset has no colon: journald short-iso."""
    rec: dict[str, Any] = {"@timestamp": ts, "event": {"dataset": "journald"}}
    read_host_and_tag(rest[1:], rec)
    if "process" not in rec:
        return None
    return rec


FORMAT: Final = Format(
    "journald",
    ("journald",),
    (
        Line(_full, UPPER, 35, claims='text[3:4] == " "', opens=True),
        Line(_unix, DIGIT, 60, claims='"." in text[9:12]', opens=True),
        # rsyslog's RFC 3339 files write "+01:00" or "Z": syslog._rfc3339_tail.
        AfterStamp(
            _short_iso_tail,
            " ",
            61,
            claims='separator == "T" and zone is not None and ":" not in zone and zone != "Z"',
            opens=True,
        ),
    ),
)
