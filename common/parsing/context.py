"""Per-message parse state handed to every format parser: the clock reading, the zone, the limits, and
the timestamp caches that make a repeated stamp (same second, any fraction) one dict lookup."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from common.parsing.options import ParseOptions
from common.parsing.timestamps import (
    Zone,
    parse_offset,
    resolve_zone,
    text_to_iso,
    to_iso,
    with_fraction,
    yearless_window,
)

# What a format's stamp text means, for text_to_iso: year (None: the format has none), month (two
# digits), day, hour, minute, second, and the stamp's own offset in seconds (None: the configured zone).
StampFields = tuple["str | None", str, str, str, str, str, "int | None"]
# None: the text is not a stamp of this format after all (a month name that is none); the cached
# lookup then returns REJECT.
FieldsOf = Callable[[str], "StampFields | None"]
REJECT: Final = ""

# An ISO 8601 / RFC 3339 value (JSON, logfmt, RFC 5424): as timestamps._ISO_RE, with the text up to the
# seconds in one group (the fraction may only follow seconds) so that it can key the cache.
_ISO_TEXT_RE: Final = re.compile(
    r"\s*(\d{4}-\d\d-\d\d(?:[Tt ]\d\d:\d\d(?::\d\d)?)?)(?:(?<=\d\d:\d\d:\d\d)[.,](\d+))?"
    r"\s?(Z|z|UTC|GMT|[+-]\d\d(?::?\d\d)?)?\s*$"
)

_CACHE_LIMIT: Final = 4096  # distinct seconds per format; a stream moves on, so old keys are dead weight
_MISS: Final = "\0miss"  # compared by identity; a str so the cache stays dict[str, str | None]
_INF: Final = float("inf")
_yearless_slots: list[int] = []
_slot_count = 0


def stamp_cache_slot(yearless: bool = False) -> int:
    """A timestamp cache for one format's key shape, in every Context (call at import time)."""
    global _slot_count
    slot = _slot_count
    _slot_count += 1
    if yearless:
        _yearless_slots.append(slot)
    return slot


class Context:
    __slots__ = (
        "_yearless_from",
        "_yearless_until",
        "max_json_depth",
        "max_labels",
        "now",
        "options",
        "stamp_caches",
        "zone",
    )

    def __init__(self, options: ParseOptions, now: float) -> None:
        self.options = options
        self.now = now
        self.zone: Zone = resolve_zone(options.timezone)
        self.max_json_depth = options.max_json_depth
        self.max_labels = options.max_labels
        # Per format (see stamp_cache_slot): stamp text up to the seconds -> "YYYY-MM-DDTHH:MM:SS." or None.
        # Per Context, since the value depends on the configured zone (and, year-less, on the clock).
        self.stamp_caches: list[dict[str, str | None]] = [{} for _ in range(_slot_count)]
        self._yearless_from = -_INF
        self._yearless_until = _INF

    def stamp(
        self,
        year: int | None,
        month: int,
        day: int,
        hour: int,
        minute: int,
        second: int,
        frac: str = "",
        offset: int | None = None,
    ) -> str | None:
        """UTC ISO text, or None for an impossible date (the caller's record then gets ingest time)."""
        return to_iso(self.now, self.zone, year, month, day, hour, minute, second, frac, offset)

    def stamp_text(
        self,
        year: str | None,
        month: str,
        day: str,
        hour: str,
        minute: str,
        second: str,
        frac: str = "",
        offset: int | None = None,
    ) -> str | None:
        """Like :meth:`stamp` but from the digit strings a regex captured (``month`` two digits)."""
        return text_to_iso(self.now, self.zone, year, month, day, hour, minute, second, frac, offset)

    def cached_stamp(self, slot: int, key: str, frac: str, fields: FieldsOf) -> str | None:
        """:meth:`stamp_text` for a stamp whose text up to the seconds is ``key``; ``fields(key)`` splits
        it into the text_to_iso arguments on a miss. ``slot`` is one format's cache (one key shape); the
        result does not depend on the clock, so the year must come from ``key``, not be inferred."""
        cache = self.stamp_caches[slot]
        prefix = cache.get(key, _MISS)
        if prefix is _MISS:
            prefix = self._fill(cache, key, fields)
        if not prefix:  # None (impossible date) or REJECT
            return prefix
        return with_fraction(prefix, frac)

    def cached_yearless_stamp(self, slot: int, key: str, frac: str, fields: FieldsOf) -> str | None:
        """:meth:`cached_stamp` for stamps that may lack a year: entries hold only while the inferred
        year would not change (see ``timestamps.yearless_window``)."""
        if not self._yearless_from <= self.now < self._yearless_until:
            self._reset_yearless()
        cache = self.stamp_caches[slot]
        prefix = cache.get(key, _MISS)
        if prefix is _MISS:
            prefix = self._fill_yearless(cache, key, fields)
        if not prefix:  # None (impossible date) or REJECT
            return prefix
        return with_fraction(prefix, frac)

    def iso_text_stamp(self, text: str) -> str | None:
        """``timestamps.from_iso_text`` for this Context, cached per second (cached_stamp inlined)."""
        m = _ISO_TEXT_RE.match(text)
        if m is None:
            return None
        key, frac, tz = m.groups()
        if tz is not None:
            key = f"{key}\0{tz}"
        cache = self.stamp_caches[_ISO_TEXT_SLOT]
        prefix = cache.get(key, _MISS)
        if prefix is _MISS:
            prefix = self._fill(cache, key, _iso_text_fields)
        if not prefix:
            return None  # an impossible date, or REJECT: an offset out of range
        return with_fraction(prefix, frac or "")

    def _fill(self, cache: dict[str, str | None], key: str, fields: FieldsOf) -> str | None:
        parts = fields(key)
        if parts is None:
            cache[key] = REJECT
            return REJECT
        year, month, day, hour, minute, second, offset = parts
        iso = text_to_iso(self.now, self.zone, year, month, day, hour, minute, second, "", offset)
        prefix = None if iso is None else iso[:-4]  # drop "000Z": the fraction is appended per line
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = prefix
        return prefix

    def _fill_yearless(self, cache: dict[str, str | None], key: str, fields: FieldsOf) -> str | None:
        parts = fields(key)
        if parts is None:
            cache[key] = REJECT
            return REJECT
        year, month, day, hour, minute, second, offset = parts
        now = self.now
        iso = text_to_iso(now, self.zone, year, month, day, hour, minute, second, "", offset)
        prefix = None if iso is None else iso[:-4]
        if year is None:
            window = yearless_window(
                now, self.zone, int(month), int(day), int(hour), int(minute), int(second), offset
            )
            if window is None:
                return prefix
        else:
            window = (-_INF, _INF)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        self._yearless_from = max(self._yearless_from, window[0])
        self._yearless_until = min(self._yearless_until, window[1])
        cache[key] = prefix
        return prefix

    def _reset_yearless(self) -> None:
        caches = self.stamp_caches
        for slot in _yearless_slots:
            caches[slot].clear()
        self._yearless_from = -_INF
        self._yearless_until = _INF


def _iso_text_fields(key: str) -> StampFields | None:
    stamp, _, tz = key.partition("\0")
    offset = parse_offset(tz) if tz else None
    if tz and offset is None:
        return None
    clock = stamp[11:]
    return (
        stamp[0:4],
        stamp[5:7],
        stamp[8:10],
        clock[0:2] or "00",
        clock[3:5] or "00",
        clock[6:8] or "00",
        offset,
    )


_ISO_TEXT_SLOT: Final = stamp_cache_slot()
