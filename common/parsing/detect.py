"""Format detection: a cheap first-character dispatch so each line tries only a few candidate parsers.

Lines that start with a timestamp (ISO, ``yy/MM/dd``, ``yyMMdd HHmmss``, ``yyyyMMdd-HH:mm:ss``) have it
parsed once here, and the rest of the line is offered to the tail parsers of the formats that use
that stamp. A syslog/journald line whose payload is JSON, logfmt, klog or an access log has the payload
parsed as well; the payload's fields win and ``labels.envelope`` names the wrapper.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from common.parsing.context import Context
from common.parsing.formats import (
    access,
    apache_error,
    generic,
    journald,
    json_lines,
    klog,
    log4j,
    logcat,
    logfmt,
    python_logging,
    redis,
    syslog,
    windows_cbs,
)
from common.parsing.timestamps import parse_offset

Parser = Callable[[str, Context], "dict[str, Any] | None"]

_ISO_PREFIX_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)([T ])(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?"
    r"(Z|[+-]\d\d(?::?\d\d)?(?![\d:])| UTC(?= )| GMT(?= ))?"
)
_SLASH_PREFIX_RE = re.compile(r"(\d{4}|\d\d)/(\d\d)/(\d\d)[ T-](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?")
_COMPACT_PREFIX_RE = re.compile(r"(\d\d)(\d\d)(\d\d) (\d\d)(\d\d)(\d\d)(?= )")
_COMPACT_YEAR_PREFIX_RE = re.compile(r"(\d{4})(\d\d)(\d\d)[-T ](\d\d):?(\d\d):?(\d\d)(?:[.,:](\d{1,9}))?")

_ENVELOPES = frozenset(("syslog", "journald", "syslog.rfc5424"))


def _timestamped(text: str, ctx: Context, start: int = 0) -> dict[str, Any] | None:
    """Parse a leading timestamp (at ``start``; 1 when it is in brackets) and offer the rest to the tails."""
    m = _ISO_PREFIX_RE.match(text, start)
    zone: str | None = None
    separator = " "
    if m is not None:
        y, mo, d, separator, h, mi, s, frac, zone = m.groups()
        if zone is not None:
            zone = zone.strip()
    else:
        m = (
            _SLASH_PREFIX_RE.match(text, start)
            or _COMPACT_PREFIX_RE.match(text, start)
            or _COMPACT_YEAR_PREFIX_RE.match(text, start)
        )
        if m is None:
            return None
        groups = m.groups()
        y, mo, d, h, mi, s = groups[:6]
        frac = groups[6] if len(groups) > 6 else None
        if len(y) == 2:
            y = "20" + y
    offset = parse_offset(zone) if zone else None
    ts = ctx.stamp_text(y, mo, d, h, mi, s, frac or "", offset)
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
        return generic.parse_tail(rest, ts, ctx)
    rec = log4j.parse_tail(rest, ts, ctx)
    if rec is None:
        rec = python_logging.parse_tail(rest, ts, ctx)
    if rec is None and rest[1:2] in (" ", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"):
        rec = logcat.parse_tail(rest, ts, ctx)
    if rec is None and separator == "T" and zone is not None:
        rec = journald.parse_iso_tail(rest[1:], ts, colon_offset=":" in zone or zone == "Z")
    if rec is None:
        rec = generic.parse_tail(rest, ts, ctx)
    return rec


def _digit(text: str, ctx: Context) -> dict[str, Any] | None:
    if text[4:5] == "-":  # ISO date first: by far the most common digit-led shape
        rec = _timestamped(text, ctx)
        if rec is not None:
            return rec
    return (
        logcat.parse(text, ctx)
        or (redis.parse(text, ctx) if ":" in text[1:8] else None)
        or access.parse(text, ctx)
        or _timestamped(text, ctx)
        or journald.parse_unix(text, ctx)
    )


def _upper(text: str, ctx: Context) -> dict[str, Any] | None:
    c = text[0]
    if c in "IWEF" and text[1:2].isdigit():
        rec = klog.parse(text, ctx)
        if rec is not None:
            return rec
    if text[1:2] == "/":
        rec = logcat.parse_brief(text, ctx)
        if rec is not None:
            return rec
    return (
        syslog.parse_rfc3164(text, ctx)
        or journald.parse_full(text, ctx)
        or python_logging.parse_basic(text, ctx)
        or logfmt.parse(text, ctx)
        or access.parse(text, ctx)
    )


def _lower(text: str, ctx: Context) -> dict[str, Any] | None:
    return logfmt.parse(text, ctx) or access.parse(text, ctx) or syslog.parse_rfc3164(text, ctx)


def _json(text: str, ctx: Context) -> dict[str, Any] | None:
    return json_lines.parse(text, ctx, parse_known)


_RFC5424_START_RE = re.compile(r"<\d{1,3}>\d")


def _angle(text: str, ctx: Context) -> dict[str, Any] | None:
    if _RFC5424_START_RE.match(text):
        return syslog.parse_rfc5424(text, ctx) or syslog.parse_rfc3164(text, ctx)
    return syslog.parse_rfc3164(text, ctx)


def _bracket(text: str, ctx: Context) -> dict[str, Any] | None:
    if text[1:2].isdigit():  # "[2023-11-10 08:00:00,123] INFO ..." (Kafka, many web frameworks)
        return _timestamped(text, ctx, start=1)
    return apache_error.parse(text, ctx)


def _other(text: str, ctx: Context) -> dict[str, Any] | None:
    return access.parse(text, ctx) or logfmt.parse(text, ctx)


def _build_dispatch() -> dict[str, Parser]:
    table: dict[str, Parser] = {"{": _json, "<": _angle, "[": _bracket, ":": _other}
    for code in range(128):
        c = chr(code)
        if c in table:
            continue
        if c.isdigit():
            table[c] = _digit
        elif c.isupper():
            table[c] = _upper
        elif c.islower() or c == "_":
            table[c] = _lower
    return table


_DISPATCH = _build_dispatch()


def _merge_payload(outer: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    """Fold a parsed payload into its syslog/journald envelope; the payload's fields win."""
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
    if c in "IWEF" and message[1:2].isdigit():
        return klog.parse(message, ctx)
    if "=" in message[:64]:
        rec = logfmt.parse(message, ctx)
        if rec is not None:
            return rec
    if '] "' in message:
        return access.parse(message, ctx)
    return None


def parse_known(text: str, ctx: Context) -> dict[str, Any] | None:
    """A partial record for ``text`` in a recognised format, or None."""
    if not text:
        return None
    parser = _DISPATCH.get(text[0], _other)
    rec = parser(text, ctx)
    if rec is not None and rec["event"]["dataset"] in _ENVELOPES:
        message = rec.get("message")
        if message:
            inner = _payload(message, ctx)
            if inner is not None:
                return _merge_payload(rec, inner)
    return rec
