"""Format detection: a cheap first-character dispatch so each line tries only a few candidate parsers.

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
from common.parsing.formats import (
    access,
    apache_error,
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
from common.parsing.timestamps import MONTH_DIGITS, parse_offset

Parser = Callable[[str, Context], "dict[str, Any] | None"]

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
        # The zone changes the value: it goes into the key, after a separator no stamp contains.
        ts = ctx.cached_stamp(
            _ISO_SLOT, key if zone is None else f"{key}\0{zone.strip()}", frac or "", _iso_fields
        )
    elif (m := _SLASH_PREFIX_RE.match(text, start)) is not None:
        key, frac = m.groups()
        ts = ctx.cached_stamp(_SLASH_SLOT, key, frac or "", _slash_fields)
        if not start and text[m.end() : m.end() + 2] == " [":
            rec = nginx_error.parse_tail(text[m.end() :], ts, ctx)
            if rec is not None:
                return rec
    elif (m := _COMPACT_PREFIX_RE.match(text, start)) is not None:
        ts = ctx.cached_stamp(_COMPACT_SLOT, m.group(1), "", _compact_fields)
    elif (m := _COMPACT_YEAR_PREFIX_RE.match(text, start)) is not None:
        key, frac = m.groups()
        ts = ctx.cached_stamp(_COMPACT_YEAR_SLOT, key, frac or "", _compact_year_fields)
    elif (m := _DAY_MONTH_PREFIX_RE.match(text, start)) is not None:
        key, _, frac = m.groups()
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
    if not rest:
        return generic.parse_tail(rest, ts, ctx)
    first = rest[0]
    if first == ",":
        return windows_cbs.parse_tail(rest, ts, ctx) or generic.parse_tail(rest, ts, ctx)
    if first != " ":
        if first == "\t":
            rec = zap_console.parse_tail(rest, ts, ctx)
            if rec is not None:
                return rec
        if first == "[" and start:
            rec = jvm_unified.parse_tail(rest, ts, ctx)
            if rec is not None:
                return rec
        return generic.parse_tail(rest, ts, ctx)
    if separator == "T" and rest[1:7] in _CRI_STREAMS and rest[8:10] in _CRI_TAGS:
        return _cri(rest, ts, ctx)
    rec = log4j.parse_tail(rest, ts, ctx)
    if rec is None:
        rec = python_logging.parse_tail(rest, ts, ctx)
    if rec is None and rest[1:2] in _SPACE_OR_DIGIT:
        rec = logcat.parse_tail(rest, ts, ctx)
    if rec is None and separator == "T" and zone is not None:
        rec = journald.parse_iso_tail(rest[1:], ts, colon_offset=":" in zone or zone == "Z")
        if rec is not None:
            return _open_envelope(rec, ctx)
    if rec is None:
        rec = generic.parse_tail(rest, ts, ctx)
    return rec


_SPACE_OR_DIGIT: Final = frozenset(" 0123456789")
_CRI_STREAMS: Final = frozenset(("stdout", "stderr"))
_CRI_TAGS: Final = frozenset(("F ", "P "))


def _cri(rest: str, ts: str | None, ctx: Context) -> dict[str, Any]:
    """The CRI log format (containerd, CRI-O: Kubernetes' /var/log/containers/*.log):
    ``<RFC 3339 time> <stdout|stderr> <F|P> <line>``. The line is parsed as a line of any format and
    its fields win, as for Docker's json-file; ``P`` marks a long line the runtime split."""
    payload = rest[10:]
    labels = {"envelope": "cri", "stream": rest[1:7]}
    if rest[8] == "P":
        labels["partial"] = "true"
    outer: dict[str, Any] = {
        "@timestamp": ts,
        "message": payload,
        "event": {"dataset": "cri"},
        "labels": labels,
    }
    inner = parse_known(payload, ctx) if payload else None
    return outer if inner is None else _merge_payload(outer, inner)


# Each parser below is tried only when the line has the characters its pattern requires at fixed
# places (a failed regex attempt costs several times such a check).


def _digit(text: str, ctx: Context) -> dict[str, Any] | None:
    c4 = text[4:5]
    if c4 == "-":  # ISO date first: by far the most common digit-led shape
        rec = _timestamped(text, ctx)
        if rec is not None:
            return rec
    c2 = text[2:3]
    if c2 == "-":
        rec = logcat.parse(text, ctx)
        if rec is not None:
            return rec
    if ":" in text[1:8]:
        rec = redis.parse(text, ctx)
        if rec is not None:
            return rec
    if " [" in text:
        rec = access.parse(text, ctx) or haproxy.parse(text, ctx)
        if rec is not None:
            return rec
    if c4 != "-" and (
        c2 == "/"
        or c4 == "/"
        or text[6:7] == " "
        or text[8:9] in _COMPACT_YEAR_SEPARATORS
        or text[1:2] == " "
    ):
        rec = _timestamped(text, ctx, iso=False)
        if rec is not None:
            return rec
    if "." in text[9:12]:
        rec = journald.parse_unix(text, ctx)
        if rec is not None:
            return _open_envelope(rec, ctx)
    return None


_COMPACT_YEAR_SEPARATORS: Final = frozenset("-T ")


def _upper(text: str, ctx: Context) -> dict[str, Any] | None:
    c = text[0]
    if c in "IWEF" and text[1:2].isdecimal():
        rec = klog.parse(text, ctx)
        if rec is not None:
            return rec
    if text[1:2] == "/":
        rec = logcat.parse_brief(text, ctx)
        if rec is not None:
            return rec
    if text[3:4] == " ":
        rec = syslog.parse_rfc3164(text, ctx) or journald.parse_full(text, ctx)
        if rec is not None:
            return _open_envelope(rec, ctx)
    return python_logging.parse_basic(text, ctx) or logfmt.parse(text, ctx) or _access(text, ctx)


def _lower(text: str, ctx: Context) -> dict[str, Any] | None:
    rec = logfmt.parse(text, ctx) or _access(text, ctx)
    if rec is None and text[3:4] == " ":
        rec = syslog.parse_rfc3164(text, ctx)
        if rec is not None:
            return _open_envelope(rec, ctx)
    return rec


def _access(text: str, ctx: Context) -> dict[str, Any] | None:
    return access.parse(text, ctx) if " [" in text else None


def _json(text: str, ctx: Context) -> dict[str, Any] | None:
    rec = json_lines.parse(text, ctx, parse_known, envelopes.unwrap)
    # ECS input may name a wrapper dataset itself ("syslog"): its message is a payload like any other.
    # A shipper's envelope (it sets agent.type) has had its line parsed already.
    if rec is not None and rec["event"]["dataset"] in _ENVELOPES and "agent" not in rec:
        return _open_envelope(rec, ctx)
    return rec


_RFC5424_START_RE: Final = re.compile(r"<\d{1,3}>\d")


def _angle(text: str, ctx: Context) -> dict[str, Any] | None:
    if _RFC5424_START_RE.match(text):
        rec = syslog.parse_rfc5424(text, ctx) or syslog.parse_rfc3164(text, ctx)
    else:
        rec = syslog.parse_rfc3164(text, ctx)
    return None if rec is None else _open_envelope(rec, ctx)


def _bracket(text: str, ctx: Context) -> dict[str, Any] | None:
    if text[1:2].isdecimal():  # "[2023-11-10 08:00:00,123] INFO ..." (Kafka, many web frameworks)
        # JVM unified logging without a time decoration starts with the uptime: "[0.012s][info][gc]".
        return _timestamped(text, ctx, start=1) or jvm_unified.parse_untimed(text, ctx)
    return apache_error.parse(text, ctx)


def other(text: str, ctx: Context) -> dict[str, Any] | None:
    """Lines starting with a character no format favours: only the shapes that allow it."""
    return _access(text, ctx) or logfmt.parse(text, ctx)


def _build_dispatch() -> dict[str, Parser]:
    table: dict[str, Parser] = {"{": _json, "<": _angle, "[": _bracket, ":": other}
    for code in range(128):
        c = chr(code)
        if c in table:
            continue
        if c.isdecimal():
            table[c] = _digit
        elif c.isupper():
            table[c] = _upper
        elif c.islower() or c == "_":
            table[c] = _lower
    return table


# First character -> parser; any other first character goes to ``other``.
DISPATCH: Final = _build_dispatch()


def _merge_payload(outer: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    """Fold a parsed payload into its syslog, journald or CRI envelope; the payload's fields win."""
    envelope = outer["event"]["dataset"]
    for key, value in inner.items():
        if key == "@timestamp":
            if value is not None:
                outer[key] = value
        elif isinstance(value, dict) and isinstance(outer.get(key), dict):
            _deep_update(outer[key], value)
        else:
            outer[key] = value
    outer.setdefault("labels", {})["envelope"] = envelope
    return outer


def _deep_update(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


def _payload(message: str, ctx: Context) -> dict[str, Any] | None:
    c = message[:1]
    if c == "{":
        return json_lines.parse(message, ctx, parse_known)
    if c in "IWEF" and message[1:2].isdecimal():
        return klog.parse(message, ctx)
    if "=" in message[:64]:
        rec = logfmt.parse(message, ctx)
        if rec is not None:
            return rec
    if '] "' in message and (rec := access.parse(message, ctx)) is not None:
        return rec
    if c.isdecimal() and " [" in message[:48] and (rec := haproxy.parse(message, ctx)) is not None:
        return rec
    if message[4:5] == "/" and " [" in message[19:30]:  # nginx's error_log to syslog keeps its stamp
        rec = _timestamped(message, ctx, iso=False)
        if rec is not None and rec["event"]["dataset"] == "nginx.error":
            return rec
    return None


def _open_envelope(rec: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A syslog/journald record whose message is JSON, logfmt, klog, an access, HAProxy or nginx error
    log line: parse that too."""
    message = rec.get("message")
    if message:
        inner = _payload(message, ctx)
        if inner is not None:
            return _merge_payload(rec, inner)
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
    rec = DISPATCH.get(rest[0], other)(rest, ctx)
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
    return DISPATCH.get(text[0], other)(text, ctx) or _file_prefixed(text, ctx)
