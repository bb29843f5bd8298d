"""Syslog: RFC 3164 (BSD, as written by syslogd/rsyslog files), RFC 3339-stamped files and RFC 5424.

The payload of a syslog line may itself be JSON, logfmt, klog or an access log; the dispatcher in
``common.parsing.detect`` parses it and lets its fields win.
"""

from __future__ import annotations

import re
from typing import Any

from common.parsing.context import Context
from common.parsing.levels import SYSLOG_SEVERITY
from common.parsing.timestamps import MONTH_DIGITS, from_iso_text, parse_offset

# <13>Jun 14 15:16:01 host tag[pid]: msg   (priority and year optional; day may be space padded)
_RFC3164_RE = re.compile(
    r"(?:<(\d{1,3})>)?([A-Z][a-z]{2}|[A-Z]{3}|[a-z]{3}) {1,2}(\d{1,2}) (?:(\d{4}) )?"
    r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?: (\d{4}))?(?: ([A-Z]{3,4}|[+-]\d\d:?\d\d))? (.*)",
    re.DOTALL,
)
# host tag[pid]: msg  |  tag[pid]: msg  |  host msg
# The tag may carry a version, as old sysklogd writes it: "syslogd 1.4.1: restart."
_TAIL_RE = re.compile(
    r"(?:([^\s\[\]:]+) )?([^\s\[:]+(?: \d+(?:\.\d+)+)?)(?:\[([^\]\s]*)\])?: *(.*)", re.DOTALL
)
_HOST_MSG_RE = re.compile(r"(\S+) *(.*)", re.DOTALL)

_RFC5424_RE = re.compile(
    r"<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) "
    r"(-|(?:\[(?:[^\]\"\\]|\\.|\"(?:[^\"\\]|\\.)*\")*\])+) ?(.*)",
    re.DOTALL,
)
_SD_ELEMENT_RE = re.compile(r"\[([^\s\]=\"]+)((?: +[^\s=\]\"]+=\"(?:[^\"\\]|\\.)*\")*) *\]")
_SD_PARAM_RE = re.compile(r"([^\s=\]\"]+)=\"((?:[^\"\\]|\\.)*)\"")
_SD_UNESCAPE_RE = re.compile(r"\\([\"\\\]])")


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


def parse_tail(rest: str, rec: dict[str, Any], with_host: bool = True) -> None:
    """Fill host/process/message from ``host tag[pid]: msg`` into ``rec``."""
    m = _TAIL_RE.match(rest)
    if m is not None and (with_host or m.group(1) is None):
        host, tag, pid, msg = m.groups()
        if host is not None:
            rec["host"] = {"name": host}
        process: dict[str, Any] = {"name": tag}
        if pid:
            if pid.isdigit():
                process["pid"] = int(pid)
            else:
                rec.setdefault("labels", {})["syslog_procid"] = pid
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


def parse_rfc3164(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _RFC3164_RE.match(text)
    if m is None:
        return None
    pri, mon, day, year1, h, mi, s, frac, year2, zone, rest = m.groups()
    month = MONTH_DIGITS.get(mon)
    if month is None:
        return None
    year = year1 or year2
    offset = None if zone is None else parse_offset(zone)
    # journalctl's short-precise output is the one BSD-style header with sub-second digits.
    dataset = "journald" if frac is not None and pri is None else "syslog"
    rec: dict[str, Any] = {
        "@timestamp": ctx.stamp_text(
            year, month, day if len(day) == 2 else "0" + day, h, mi, s, frac or "", offset
        ),
        "event": {"dataset": dataset},
    }
    _apply_priority(rec, pri)
    parse_tail(rest, rec)
    return rec


def parse_rfc5424(text: str, ctx: Context) -> dict[str, Any] | None:
    m = _RFC5424_RE.match(text)
    if m is None:
        return None
    pri, version, stamp, host, app, procid, msgid, sd, msg = m.groups()
    rec: dict[str, Any] = {"event": {"dataset": "syslog.rfc5424"}}
    if stamp != "-":
        rec["@timestamp"] = from_iso_text(ctx.now, ctx.zone, stamp)
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
        if procid.isdigit():
            rec.setdefault("process", {})["pid"] = int(procid)
    if msgid != "-":
        syslog["msgid"] = msgid
    if sd != "-":
        structured: dict[str, dict[str, str]] = {}
        for element in _SD_ELEMENT_RE.finditer(sd):
            params = structured.setdefault(element.group(1), {})
            for param in _SD_PARAM_RE.finditer(element.group(2)):
                params[param.group(1)] = _SD_UNESCAPE_RE.sub(r"\1", param.group(2))
        syslog["structured_data"] = structured
    rec["message"] = msg[1:] if msg.startswith("\ufeff") else msg
    return rec
