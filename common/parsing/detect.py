"""Format detection: the machinery that runs the registry's candidates (``common.parsing.registry``).

A cheap first-character dispatch picks the shape of a line, so each line tries only a few
candidates. Lines that start with a timestamp (ISO, ``yy/MM/dd``, ``yyMMdd HHmmss``,
``yyyyMMdd-HH:mm:ss``) have it parsed once here, and the rest of the line is offered to the formats
that follow such a stamp. A record whose format ``opens`` its message (syslog, journald, CRI) has
the message parsed as well; the payload's fields win and ``labels.envelope`` names the wrapper.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from common.parsing import registry
from common.parsing.context import REJECT, Context, StampFields, stamp_cache_slot
from common.parsing.format import LINE, Format, Record
from common.parsing.formats import json_lines
from common.parsing.registry import COLON_ZONE, NO_ZONE, OTHER_ZONE, StampKind
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


def _timestamped(text: str, ctx: Context, start: int = 0, iso: bool = True) -> Record | None:
    """Parse a leading timestamp (at ``start``; 1 when it is in brackets) and offer the rest to the
    formats that follow a stamp. ``iso`` False: the caller knows the line has no ISO date there."""
    zone: str | None = None
    separator = " "
    zone_kind = NO_ZONE
    m = _ISO_PREFIX_RE.match(text, start) if iso else None
    if m is not None:
        key, separator, frac, zone = m.groups()
        kind = _ISO_KIND
        # The zone changes the value: it goes into the key, after a separator no stamp contains.
        if zone is None:
            ts = ctx.cached_stamp(_ISO_SLOT, key, frac or "", _iso_fields)
        else:
            ts = ctx.cached_stamp(_ISO_SLOT, f"{key}\0{zone.strip()}", frac or "", _iso_fields)
            zone_kind = COLON_ZONE if ":" in zone or zone == "Z" else OTHER_ZONE
    elif (m := _SLASH_PREFIX_RE.match(text, start)) is not None:
        key, frac = m.groups()
        kind = _SLASH_KIND
        ts = ctx.cached_stamp(_SLASH_SLOT, key, frac or "", _slash_fields)
    elif (m := _COMPACT_PREFIX_RE.match(text, start)) is not None:
        kind = _COMPACT_KIND
        ts = ctx.cached_stamp(_COMPACT_SLOT, m.group(1), "", _compact_fields)
    elif (m := _COMPACT_YEAR_PREFIX_RE.match(text, start)) is not None:
        key, frac = m.groups()
        kind = _COMPACT_YEAR_KIND
        ts = ctx.cached_stamp(_COMPACT_YEAR_SLOT, key, frac or "", _compact_year_fields)
    elif (m := _DAY_MONTH_PREFIX_RE.match(text, start)) is not None:
        key, _, frac = m.groups()
        kind = _DAY_MONTH_KIND
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
    # The table for this kind of stamp: see _after_stamp_tables for the numbering.
    by_first = _AFTER_STAMP[kind + (6 if separator == "T" else 0) + zone_kind * 2 + (1 if start else 0)]
    steps = by_first.get(rest[:1])
    if steps is None:
        steps = by_first["other"]
    for parse, when, final, opens in steps:
        if when is None or when(rest):
            rec = parse(rest, ts, ctx)
            if rec is not None:
                return rec if opens is None else _open(rec, opens, ctx)
            if final:
                return None
    return None


def _json(text: str, ctx: Context) -> Record | None:
    rec = json_lines.parse(text, ctx, parse_known)
    # ECS input may name a wrapper dataset itself ("syslog"): its message is a payload like any other.
    if rec is not None and rec["event"]["dataset"] in _ENVELOPES:
        return _open_envelope(rec, ctx)
    return rec


def _json_payload(text: str, ctx: Context) -> Record | None:
    return json_lines.parse(text, ctx, parse_known)


def _nginx_payload(text: str, ctx: Context) -> Record | None:
    rec = _timestamped(text, ctx, iso=False)
    return rec if rec is not None and rec["event"]["dataset"] == "nginx.error" else None


_STEPS: Final = registry.Steps(
    stamped=Format("stamped", line=_timestamped),
    stamped_not_iso=Format("stamped", line=lambda text, ctx: _timestamped(text, ctx, iso=False)),
    bracket_stamped=Format("stamped", line=lambda text, ctx: _timestamped(text, ctx, start=1)),
    json=Format("json", line=_json),
    json_payload=Format("json", line=_json_payload),
    nginx_payload=Format("nginx.error", line=_nginx_payload),
)

# (parse, check, final, opens): a registry candidate unpacked for the per-line loops.
LineStep = tuple[Callable[[str, Context], Record | None], Callable[[str], bool] | None, bool, str | None]
StampedStep = tuple[
    Callable[[str, str | None, Context], Record | None], Callable[[str], bool] | None, bool, str | None
]


def _line_steps(candidates: tuple[registry.Candidate, ...]) -> tuple[LineStep, ...]:
    steps: list[LineStep] = []
    for c in candidates:
        assert c.format.line is not None, f"{c.format.name} does not parse whole lines"
        steps.append((c.format.line, c.when, c.final, c.format.opens))
    return tuple(steps)


def _stamped_steps(
    candidates: tuple[registry.StampedCandidate, ...], kind: StampKind
) -> tuple[StampedStep, ...]:
    steps: list[StampedStep] = []
    for c in candidates:
        assert c.format.after_stamp is not None, f"{c.format.name} does not follow a timestamp"
        if c.stamp is None or c.stamp(kind):
            steps.append((c.format.after_stamp, c.when, c.final, c.format.opens))
    return tuple(steps)


def _after_stamp_tables() -> list[dict[str, tuple[StampedStep, ...]]]:
    """Per kind of stamp, the registry's AFTER_STAMP with the candidates that cannot follow it left out.

    Indexed by ``12 * style + 6 * t_separator + 2 * zone + bracketed``: a list index per line is
    cheaper than hashing a key.
    """
    tables: list[dict[str, tuple[StampedStep, ...]]] = []
    for style in registry.STYLES:
        for t_separator in (False, True):
            for zone in (NO_ZONE, COLON_ZONE, OTHER_ZONE):
                for bracketed in (False, True):
                    kind = StampKind(style, t_separator, zone, bracketed)
                    tables.append(
                        {
                            first: _stamped_steps(candidates, kind)
                            for first, candidates in registry.AFTER_STAMP.items()
                        }
                    )
    return tables


_ISO_KIND, _SLASH_KIND, _COMPACT_KIND, _COMPACT_YEAR_KIND, _DAY_MONTH_KIND = (
    12 * registry.STYLES.index(style) for style in ("iso", "slash", "compact", "compact-year", "day-month")
)


# The registry's tables, unpacked once into plain tuples: the loops below run for every line.
_AFTER_STAMP: Final = _after_stamp_tables()
_PAYLOAD: Final = _line_steps(registry.payload_candidates(_STEPS))


def _try(steps: tuple[LineStep, ...], text: str, ctx: Context) -> Record | None:
    for parse, when, final, opens in steps:
        if when is None or when(text):
            rec = parse(text, ctx)
            if rec is not None:
                return rec if opens is None else _open(rec, opens, ctx)
            if final:
                return None
    return None


def _build_dispatch() -> dict[str, tuple[LineStep, ...]]:
    shapes = {shape: _line_steps(c) for shape, c in registry.candidates(_STEPS).items()}
    return {chr(code): shapes[registry.shape_of(chr(code))] for code in range(128)}


# First character -> the candidates of its shape; any other first character is shape "other".
DISPATCH: Final = _build_dispatch()
OTHER: Final = _line_steps(registry.candidates(_STEPS)["other"])


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


def _open_envelope(rec: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A syslog/journald record whose message is JSON, logfmt, klog, an access, HAProxy or nginx error
    log line: parse that too."""
    message = rec.get("message")
    if message:
        inner = _try(_PAYLOAD, message, ctx)
        if inner is not None:
            return _merge_payload(rec, inner)
    return rec


def _open(rec: Record, opens: str, ctx: Context) -> Record:
    if opens != LINE:
        return _open_envelope(rec, ctx)
    # A container runtime's wrapper: its message is a line of any format.
    message = rec.get("message")
    inner = parse_known(message, ctx) if message else None
    return rec if inner is None else _merge_payload(rec, inner)


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
    rec = _try(DISPATCH.get(rest[0], OTHER), rest, ctx)
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
    return _try(DISPATCH.get(text[0], OTHER), text, ctx) or _file_prefixed(text, ctx)
