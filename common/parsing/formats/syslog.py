"""Syslog: RFC 3164 (BSD, as written by syslogd/rsyslog files), RFC 3339-stamped files and RFC 5424.

The payload of a syslog line may itself be JSON, logfmt, klog or an access log; the dispatcher in
``common.parsing.detect`` parses it and lets its fields win.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import REJECT, Context, StampFields, stamp_cache_slot
from common.parsing.format import LOWER, UPPER, AfterStamp, Format, Line
from common.parsing.levels import SYSLOG_SEVERITY
from common.parsing.timestamps import MONTH_DIGITS, parse_offset

# <13>Jun 14 15:16:01 host tag[pid]: msg   (priority and year optional; day may be space padded)
# The stamp up to the seconds, and what may follow the fraction (year, zone), are one group each: the
# cache key.
_RFC3164_RE: Final = re.compile(
    r"(?:<(\d{1,3})>)?((?:[A-Z][a-z]{2}|[A-Z]{3}|[a-z]{3}) {1,2}\d{1,2} (?:\d{4} )?\d\d:\d\d:\d\d)"
    r"(?:\.(\d{1,9}))?((?: \d{4})?(?: (?:[A-Z]{3,4}|[+-]\d\d:?\d\d))?) (.*)",
    re.DOTALL,
)
_RFC3164_STAMP_RE: Final = re.compile(
    r"(\w{3}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d\d):(\d\d):(\d\d)(?: (\d{4}))?(?: (\S+))?"
)
# host tag[pid]: msg  |  tag[pid]: msg  |  host msg
# The tag may carry a version, as old sysklogd writes it: "syslogd 1.4.1: restart."; macOS's syslog
# adds the launchd job or subsystem after the pid: "com.apple.xpc.launchd[1] (com.apple.foo.123): msg".
_TAIL_RE: Final = re.compile(
    r"(?:([^\s\[\]:]+) )?([^\s\[:]+(?: \d+(?:\.\d+)+)?)(?:\[([^\]\s]*)\])?(?: \(([^\s()]+)\))?: *(.*)",
    re.DOTALL,
)
# Tried when _TAIL_RE fails: a tag with blanks, which macOS writes for applications
# ("Google Chrome Helper[22364]: msg"); the pid in brackets is what marks where the tag ends.
_SPACED_TAG_RE: Final = re.compile(
    r"(\S+) ([^\s\[\]:](?:[^\[\]:]*[^\s\[\]:])?)\[(\d+)\](?: \(([^\s()]+)\))?: *(.*)", re.DOTALL
)
_HOST_MSG_RE: Final = re.compile(r"(\S+) *(.*)", re.DOTALL)

# The structured-data grammar is deterministic (a quote or a backslash always starts the same token),
# so possessive runs match exactly what the char-by-char pattern would, without its backtracking
# bookkeeping.
_QUOTED_SD: Final = r'"(?:[^"\\]++|\\.)*+"'
_RFC5424_RE: Final = re.compile(
    r"<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) "
    r"(-|(?:\[(?:[^\]\"\\]++|\\.|" + _QUOTED_SD + r")*+\])++) ?(.*)",
    re.DOTALL,
)
_SD_ELEMENT_RE: Final = re.compile(r'\[([^\s\]="]+)((?: +[^\s=\]"]+="[^"\\]*(?:\\.[^"\\]*)*")*) *\]')
_SD_PARAM_RE: Final = re.compile(r'([^\s=\]"]+)="([^"\\]*(?:\\.[^"\\]*)*)"')
_SD_UNESCAPE_RE: Final = re.compile(r"\\([\"\\\]])")


def _apply_priority(rec: dict[str, Any], pri: str | None) -> None:
    if pri is None:
        return
    value = int(pri)
    if value > 191:
        return
    facility, severity = divmod(value, 8)
    rec["log"] = {
        "level": SYSLOG_SEVERITY[severity],
        "syslog": {"priority": value, "facility": {"code": facility}, "severity": {"code": severity}},
    }


def read_host_and_tag(rest: str, rec: dict[str, Any], with_host: bool = True) -> None:
    """Fill host/process/message from ``host tag[pid]: msg`` into ``rec``."""
    m = _TAIL_RE.match(rest)
    if m is None and with_host:
        m = _SPACED_TAG_RE.match(rest)
    if m is not None and (with_host or m.group(1) is None):
        host, tag, pid, detail, msg = m.groups()
        if host is not None:
            rec["host"] = {"name": host}
        process: dict[str, Any] = {"name": tag}
        if pid:
            if pid.isdecimal():
                process["pid"] = int(pid)
            else:
                rec.setdefault("labels", {})["syslog_procid"] = pid
        if detail is not None:
            rec.setdefault("labels", {})["process_detail"] = detail
        rec["process"] = process
        rec["message"] = msg
        return
    if with_host:
        m2 = _HOST_MSG_RE.match(rest)
        if m2 is not None:
            rec["host"] = {"name": m2.group(1)}
            rec["message"] = m2.group(2)
            return
    rec["message"] = rest


def _stamp_fields(key: str) -> StampFields | None:
    m = _RFC3164_STAMP_RE.match(key)
    assert m is not None
    mon, day, year1, h, mi, s, year2, zone = m.groups()
    month = MONTH_DIGITS.get(mon)
    if month is None:
        return None
    offset = None if zone is None else parse_offset(zone)
    return year1 or year2, month, day if len(day) == 2 else "0" + day, h, mi, s, offset


_SLOT: Final = stamp_cache_slot(yearless=True)


def _rfc3164(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _RFC3164_RE.match(text)
    if m is None:
        return None
    pri, stamp, frac, after, rest = m.groups()
    ts = ctx.cached_yearless_stamp(_SLOT, f"{stamp}{after}" if after else stamp, frac or "", _stamp_fields)
    if ts == REJECT:  # not a month name
        return None
    # journalctl's short-precise output is the one BSD-style header with sub-second digits.
    rec: dict[str, Any] = {
        "@timestamp": ts,
        "event": {"dataset": "journald" if frac is not None and pri is None else "syslog"},
    }
    if pri is not None:
        _apply_priority(rec, pri)
    read_host_and_tag(rest, rec)
    return rec


def _rfc5424(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _RFC5424_RE.match(text)
    if m is None:
        return None
    pri, version, stamp, host, app, procid, msgid, sd, msg = m.groups()
    rec: dict[str, Any] = {"event": {"dataset": "syslog.rfc5424"}}
    if stamp != "-":
        rec["@timestamp"] = ctx.iso_text_stamp(stamp)
    _apply_priority(rec, pri)
    syslog = rec.setdefault("log", {}).setdefault("syslog", {})
    syslog["version"] = version
    if host != "-":
        rec["host"] = {"name": host}
        syslog["hostname"] = host
    if app != "-":
        rec["process"] = {"name": app}
        syslog["appname"] = app
    if procid != "-":
        syslog["procid"] = procid
        if procid.isdecimal():
            rec.setdefault("process", {})["pid"] = int(procid)
    if msgid != "-":
        syslog["msgid"] = msgid
    if sd != "-":
        structured: dict[str, dict[str, str]] = {}
        for sd_id, sd_params in _SD_ELEMENT_RE.findall(sd):
            params = structured.setdefault(sd_id, {})
            for name, value in _SD_PARAM_RE.findall(sd_params):
                params[name] = _SD_UNESCAPE_RE.sub(r"\1", value) if "\\" in value else value
        syslog["structured_data"] = structured
    rec["message"] = msg[1:] if msg.startswith("\ufeff") else msg
    return rec


def _rfc3339_tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    """`` host tag[pid]: msg`` after an RFC 3339 stamp with a colon in its offset: an rsyslog file."""
    rec: dict[str, Any] = {"@timestamp": ts, "event": {"dataset": "syslog"}}
    read_host_and_tag(rest[1:], rec)
    if "process" not in rec:
        return None
    return rec


_RFC5424_START_RE: Final = re.compile(r"<\d{1,3}>\d")

FORMAT: Final = Format(
    "syslog",
    ("syslog", "syslog.rfc5424", "journald"),  # journald: short-precise, a BSD header with a fraction
    (
        Line(_rfc3164, UPPER, 30, claims='text[3:4] == " "', opens=True),
        Line(_rfc3164, LOWER, 30, claims='text[3:4] == " "', opens=True),
        Line(_rfc5424, "<", 10, claims="_RFC5424_START_RE.match(text) is not None", opens=True),
        Line(_rfc3164, "<", 20, opens=True),
        # journald's short-iso writes "+0000" (no colon): journald._short_iso_tail.
        AfterStamp(
            _rfc3339_tail,
            " ",
            60,
            claims='separator == "T" and zone is not None and (":" in zone or zone == "Z")',
            opens=True,
        ),
    ),
)
