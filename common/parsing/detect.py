"""Format detection: a cheap first-character dispatch so each line tries only a few candidate parsers.

Which parsers, in what order and after what check, comes from the format registry
(``common/parsing/formats/registry.py``, each format's ``FORMAT``: ``common/parsing/format.py``); the
dispatch functions below are generated from it (``python -m common.parsing.formats.generate``), so a
line meets plain calls and inline checks, never a walk over a table.

Lines that start with a timestamp (ISO, ``yy/MM/dd``, ``yyMMdd HHmmss``, ``yyyyMMdd-HH:mm:ss``) have it
parsed once here, and the rest of the line is offered to the tail parsers of the formats that use
that stamp. A syslog/journald line whose payload is JSON, logfmt, klog or an access log has the payload
parsed as well; the payload's fields win and ``labels.envelope`` names the wrapper.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from common.parsing.context import REJECT, Context, StampFields, stamp_cache_slot
from common.parsing.envelopes import registry as envelopes

# <generated imports: python -m common.parsing.formats.generate; do not edit>
from common.parsing.formats import (
    access,
    apache_error,
    cri,
    generic,
    haproxy,
    journald,
    json_lines,
    jvm_unified,
    klog,
    log4j,
    logcat,
    logfmt,
    nginx_error,
    python_logging,
    redis,
    syslog,
    windows_cbs,
    zap_console,
)

# </generated imports>
from common.parsing.formats.json_lines import parse as parse_json
from common.parsing.nesting import merge_payload
from common.parsing.timestamps import MONTH_DIGITS, parse_offset

_ISO_PREFIX_RE: Final = re.compile(
    r"(\d{4}-\d\d-\d\d([T ])\d\d:\d\d:\d\d)(?:[.,](\d{1,9}))?"
    r"(Z|[+-]\d\d(?::?\d\d)?(?![\d:])| UTC(?= )| GMT(?= ))?"
)
_SLASH_PREFIX_RE: Final = re.compile(r"((?:\d{4}|\d\d)/\d\d/\d\d[ T-]\d\d:\d\d:\d\d)(?:[.,](\d{1,9}))?")
_COMPACT_PREFIX_RE: Final = re.compile(r"(\d{6} \d{6})(?= )")
_COMPACT_YEAR_PREFIX_RE: Final = re.compile(r"(\d{8}[-T ]\d\d:?\d\d:?\d\d)(?:[.,:](\d{1,9}))?")
# log4j's %d{DATE} ("14 Mar 2024 10:21:33,123") and PHP's "14-Mar-2024 10:21:33".
_DAY_MONTH_PREFIX_RE: Final = re.compile(
    r"(\d{1,2}([ -])[A-Z][a-z]{2}\2\d{4} \d\d:\d\d:\d\d)(?:[.,](\d{1,9}))?"
)
_SLASH_FIELDS_RE: Final = re.compile(r"(\d{4}|\d\d)/(\d\d)/(\d\d)[ T-](\d\d):(\d\d):(\d\d)")
_COMPACT_YEAR_FIELDS_RE: Final = re.compile(r"(\d{4})(\d\d)(\d\d)[-T ](\d\d):?(\d\d):?(\d\d)")

_ENVELOPES: Final = frozenset(("syslog", "journald", "syslog.rfc5424"))
# Where the digits of the stamps other than ISO stop (generic.py's claims).
_COMPACT_YEAR_SEPARATORS: Final = frozenset("-T ")


def _iso_fields(key: str) -> StampFields:
    """``YYYY-MM-DD?HH:MM:SS`` and an optional zone suffix after a NUL (see _timestamped)."""
    zone = key[20:]
    return (
        key[0:4],
        key[5:7],
        key[8:10],
        key[11:13],
        key[14:16],
        key[17:19],
        parse_offset(zone) if zone else None,
    )


def _slash_fields(key: str) -> StampFields:
    m = _SLASH_FIELDS_RE.match(key)
    assert m is not None
    y, mo, d, h, mi, s = m.groups()
    return ("20" + y if len(y) == 2 else y), mo, d, h, mi, s, None


def _compact_fields(key: str) -> StampFields:
    return "20" + key[0:2], key[2:4], key[4:6], key[7:9], key[9:11], key[11:13], None


def _compact_year_fields(key: str) -> StampFields:
    m = _COMPACT_YEAR_FIELDS_RE.match(key)
    assert m is not None
    y, mo, d, h, mi, s = m.groups()
    return y, mo, d, h, mi, s, None


def _day_month_fields(key: str) -> StampFields | None:
    day, month_name, year, clock = key.replace("-", " ").split(" ")
    month = MONTH_DIGITS.get(month_name)
    if month is None:
        return None
    return year, month, day if len(day) == 2 else "0" + day, clock[0:2], clock[3:5], clock[6:8], None


_ISO_SLOT: Final = stamp_cache_slot()
_SLASH_SLOT: Final = stamp_cache_slot()
_COMPACT_SLOT: Final = stamp_cache_slot()
_COMPACT_YEAR_SLOT: Final = stamp_cache_slot()
_DAY_MONTH_SLOT: Final = stamp_cache_slot()


def _timestamped(text: str, ctx: Context, start: int = 0, iso: bool = True) -> dict[str, Any] | None:
    """Parse a leading timestamp (at ``start``; 1 when it is in brackets) and offer the rest to the tails.

    ``iso`` False: the caller knows the line has no ISO date there.
    """
    zone: str | None = None
    separator = " "
    m = _ISO_PREFIX_RE.match(text, start) if iso else None
    if m is not None:
        key, separator, frac, zone = m.groups()
        style = "iso"
        # The zone changes the value: it goes into the key, after a separator no stamp contains.
        ts = ctx.cached_stamp(
            _ISO_SLOT, key if zone is None else f"{key}\0{zone.strip()}", frac or "", _iso_fields
        )
    elif (m := _SLASH_PREFIX_RE.match(text, start)) is not None:
        key, frac = m.groups()
        style = "slash"
        ts = ctx.cached_stamp(_SLASH_SLOT, key, frac or "", _slash_fields)
    elif (m := _COMPACT_PREFIX_RE.match(text, start)) is not None:
        style = "compact"
        ts = ctx.cached_stamp(_COMPACT_SLOT, m.group(1), "", _compact_fields)
    elif (m := _COMPACT_YEAR_PREFIX_RE.match(text, start)) is not None:
        key, frac = m.groups()
        style = "compact-year"
        ts = ctx.cached_stamp(_COMPACT_YEAR_SLOT, key, frac or "", _compact_year_fields)
    elif (m := _DAY_MONTH_PREFIX_RE.match(text, start)) is not None:
        key, _, frac = m.groups()
        style = "day-month"
        ts = ctx.cached_stamp(_DAY_MONTH_SLOT, key, frac or "", _day_month_fields)
        if ts == REJECT:  # not a month name
            return None
    else:
        return None
    rest = text[m.end() :]
    if start:
        if rest[:1] != "]":
            return None
        rest = rest[1:]
    return _after_stamp(rest, ts, ctx, style, separator, zone, start)


# Detection's own steps, placed by the registry like formats' parsers (generic.py, json_lines.py,
# nginx_error.py): they need detection itself.


def _json(text: str, ctx: Context) -> dict[str, Any] | None:
    rec = parse_json(text, ctx, parse_known, envelopes.unwrap)
    # ECS input may name a wrapper dataset itself ("syslog"): its message is a payload like any other.
    # A shipper's envelope (it sets agent.type) has had its line parsed already.
    if rec is not None and rec["event"]["dataset"] in _ENVELOPES and "agent" not in rec:
        return _open_envelope(rec, ctx)
    return rec


def _nginx_payload(text: str, ctx: Context) -> dict[str, Any] | None:
    """nginx's error_log sent to syslog keeps its own stamp."""
    rec = _timestamped(text, ctx, iso=False)
    return rec if rec is not None and rec["event"]["dataset"] == "nginx.error" else None


def _open_envelope(rec: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A syslog/journald record whose message is JSON, logfmt, klog, an access, HAProxy or nginx error
    log line: parse that too."""
    message = rec.get("message")
    if message:
        inner = _payload(message, ctx)
        if inner is not None:
            return merge_payload(rec, inner)
    return rec


# A log file's name: "nova-api.log", "app.log.1", "nova-api.log.1.2017-05-16_13:53:08", "/var/log/x.log".
_FILE_NAME_RE: Final = re.compile(r"[\w./\-]*\.log(?:[.\-_][\w.:\-]*)?")


def _file_prefixed(text: str, ctx: Context) -> dict[str, Any] | None:
    """A known line behind the name of the file it came from (how merged or collected logs often
    look, e.g. ``tail -f`` of several files or loghub's OpenStack set); the name is ``log.file.path``."""
    space = text.find(" ", 4)
    if space < 0 or ".log" not in text[:space] or _FILE_NAME_RE.fullmatch(text, 0, space) is None:
        return None
    rest = text[space + 1 :]
    if not rest:
        return None
    rec = DISPATCH.get(rest[0], _line_other)(rest, ctx)
    if rec is not None:
        log = rec.get("log")
        if not isinstance(log, dict):
            log = rec["log"] = {}
        log["file"] = {"path": text[:space]}
    return rec


def parse_known(text: str, ctx: Context) -> dict[str, Any] | None:
    """A partial record for ``text`` in a recognised format, or None."""
    if not text:
        return None
    return DISPATCH.get(text[0], _line_other)(text, ctx) or _file_prefixed(text, ctx)


# <generated dispatch: python -m common.parsing.formats.generate; do not edit>
# fmt: off


def _line_digit(text: str, ctx: Context) -> dict[str, Any] | None:
    # lines starting with a digit: generic 10, logcat 20, redis 30, access 40, haproxy 45, generic 50,
    #   journald 60
    rec: dict[str, Any] | None
    if text[4:5] == "-":
        rec = _timestamped(text, ctx)
        if rec is not None:
            return rec
    if text[2:3] == "-":
        rec = logcat._threadtime(text, ctx)
        if rec is not None:
            return rec
    if ":" in text[1:8]:
        rec = redis._parse(text, ctx)
        if rec is not None:
            return rec
    if " [" in text:
        rec = access._parse(text, ctx)
        if rec is not None:
            return rec
        rec = haproxy._parse(text, ctx)
        if rec is not None:
            return rec
    if text[4:5] != "-" and (text[2:3] == "/" or text[4:5] == "/" or text[6:7] == " " or text[8:9] in _COMPACT_YEAR_SEPARATORS or text[1:2] == " "):  # noqa: E501
        rec = _timestamped(text, ctx, iso=False)
        if rec is not None:
            return rec
    if "." in text[9:12]:
        rec = journald._unix(text, ctx)
        if rec is not None:
            return _open_envelope(rec, ctx)
    return None


def _line_upper(text: str, ctx: Context) -> dict[str, Any] | None:
    # lines starting with an upper-case ASCII letter: klog 10, logcat 20, syslog 30, journald 35, python 40,
    #   logfmt 50, access 60
    rec: dict[str, Any] | None
    if text[:1] in "IWEF" and text[1:2].isdecimal():
        rec = klog._parse(text, ctx)
        if rec is not None:
            return rec
    if text[1:2] == "/":
        rec = logcat._brief(text, ctx)
        if rec is not None:
            return rec
    if text[3:4] == " ":
        rec = syslog._rfc3164(text, ctx)
        if rec is not None:
            return _open_envelope(rec, ctx)
        rec = journald._full(text, ctx)
        if rec is not None:
            return _open_envelope(rec, ctx)
    rec = python_logging._basic(text, ctx)
    if rec is not None:
        return rec
    rec = logfmt._parse(text, ctx)
    if rec is not None:
        return rec
    if " [" in text:
        rec = access._parse(text, ctx)
        if rec is not None:
            return rec
    return None


def _line_lower(text: str, ctx: Context) -> dict[str, Any] | None:
    # lines starting with a lower-case ASCII letter or "_": logfmt 10, access 20, syslog 30
    rec: dict[str, Any] | None
    rec = logfmt._parse(text, ctx)
    if rec is not None:
        return rec
    if " [" in text:
        rec = access._parse(text, ctx)
        if rec is not None:
            return rec
    if text[3:4] == " ":
        rec = syslog._rfc3164(text, ctx)
        if rec is not None:
            return _open_envelope(rec, ctx)
    return None


def _line_other(text: str, ctx: Context) -> dict[str, Any] | None:
    # lines starting with any other character: access 10, logfmt 20
    rec: dict[str, Any] | None
    if " [" in text:
        rec = access._parse(text, ctx)
        if rec is not None:
            return rec
    return logfmt._parse(text, ctx)


def _line_angle(text: str, ctx: Context) -> dict[str, Any] | None:
    # lines starting with '<': syslog 10, syslog 20
    rec: dict[str, Any] | None
    if syslog._RFC5424_START_RE.match(text) is not None:
        rec = syslog._rfc5424(text, ctx)
        if rec is not None:
            return _open_envelope(rec, ctx)
    rec = syslog._rfc3164(text, ctx)
    return None if rec is None else _open_envelope(rec, ctx)


def _line_bracket(text: str, ctx: Context) -> dict[str, Any] | None:
    # lines starting with '[': generic 10, jvm_unified 20, apache_error 30
    rec: dict[str, Any] | None
    if text[1:2].isdecimal():
        rec = _timestamped(text, ctx, start=1)
        if rec is not None:
            return rec
        rec = jvm_unified._untimed(text, ctx)
        if rec is not None:
            return rec
    if not text[1:2].isdecimal():
        rec = apache_error._parse(text, ctx)
        if rec is not None:
            return rec
    return None

# lines starting with '{': json 10 (detect._json)


def _payload(text: str, ctx: Context) -> dict[str, Any] | None:
    # a syslog or journald message: json 10, klog 20, logfmt 30, access 40, haproxy 50, nginx_error 60
    rec: dict[str, Any] | None
    if text[:1] == "{":
        return json_lines.parse(text, ctx, parse_known)
    if text[:1] in "IWEF" and text[1:2].isdecimal():
        return klog._parse(text, ctx)
    if "=" in text[:64]:
        rec = logfmt._parse(text, ctx)
        if rec is not None:
            return rec
    if '] "' in text:
        rec = access._parse(text, ctx)
        if rec is not None:
            return rec
    if text[:1].isdecimal() and " [" in text[:48]:
        rec = haproxy._parse(text, ctx)
        if rec is not None:
            return rec
    if text[4:5] == "/" and " [" in text[19:30]:
        rec = _nginx_payload(text, ctx)
        if rec is not None:
            return rec
    return None


def _after_stamp(
    rest: str, ts: str | None, ctx: Context, style: str, separator: str, zone: str | None,
    start: int,
) -> dict[str, Any] | None:
    """What follows a leading timestamp (see common.parsing.format.AfterStamp)."""
    rec: dict[str, Any] | None
    # nothing after the stamp: generic 100
    if not rest:
        return generic._tail(rest, ts, ctx)
    first = rest[0]
    # ' ' after the stamp: nginx_error 10, cri 20, log4j 30, python 40, logcat 50, syslog 60, journald 61,
    #   generic 100
    if first == " ":
        if style == "slash" and not start and rest[:2] == " [":
            rec = nginx_error._tail(rest, ts, ctx)
            if rec is not None:
                return rec
        if separator == "T" and rest[1:7] in cri._CRI_STREAMS and rest[8:10] in cri._CRI_TAGS:
            return cri._tail(rest, ts, ctx, parse_known)
        rec = log4j._tail(rest, ts, ctx)
        if rec is not None:
            return rec
        rec = python_logging._tail(rest, ts, ctx)
        if rec is not None:
            return rec
        if rest[1:2] in logcat._SPACE_OR_DIGIT:
            rec = logcat._year_tail(rest, ts, ctx)
            if rec is not None:
                return rec
        if separator == "T" and zone is not None and (":" in zone or zone == "Z"):
            rec = syslog._rfc3339_tail(rest, ts, ctx)
            if rec is not None:
                return _open_envelope(rec, ctx)
        if separator == "T" and zone is not None and ":" not in zone and zone != "Z":
            rec = journald._short_iso_tail(rest, ts, ctx)
            if rec is not None:
                return _open_envelope(rec, ctx)
        return generic._tail(rest, ts, ctx)
    # ',' after the stamp: windows_cbs 10, generic 100
    if first == ",":
        rec = windows_cbs._tail(rest, ts, ctx)
        if rec is not None:
            return rec
        return generic._tail(rest, ts, ctx)
    # any other character after the stamp: zap 10, jvm_unified 20, generic 100
    if rest[:1] == "\t":
        rec = zap_console._tail(rest, ts, ctx)
        if rec is not None:
            return rec
    if rest[:1] == "[" and start:
        rec = jvm_unified._tail(rest, ts, ctx)
        if rec is not None:
            return rec
    return generic._tail(rest, ts, ctx)


def _build_dispatch() -> dict[str, Callable[[str, Context], dict[str, Any] | None]]:
    table: dict[str, Callable[[str, Context], dict[str, Any] | None]] = {"<": _line_angle, "[": _line_bracket, "{": _json}  # noqa: E501
    for code in range(128):
        c = chr(code)
        if c in table:
            continue
        if c.isdecimal():
            table[c] = _line_digit
        elif c.isupper():
            table[c] = _line_upper
        elif c.islower() or c == "_":
            table[c] = _line_lower
    return table


# First character -> parser; any other first character goes to _line_other.
DISPATCH: Final = _build_dispatch()
# fmt: on
# </generated dispatch>
