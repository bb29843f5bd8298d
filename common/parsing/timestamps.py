"""Turn the pieces of a log timestamp into UTC ISO 8601 text, without strptime.

Parsers slice the numbers out with their own precompiled regexes and call :func:`to_iso`; this module
validates them, applies the zone (the stamp's own, else the configured one), infers missing years and
formats ``YYYY-MM-DDTHH:MM:SS.fffZ`` (6 fraction digits when the source had more than 3). Calendar
arithmetic is integer-only (days-from-civil), which is several times cheaper than ``datetime``.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTH_NAMES: Final = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Every capitalisation seen in the wild, so the hot path is one dict lookup.
MONTHS: dict[str, int] = {}
for _i, _name in enumerate(_MONTH_NAMES, start=1):
    for _spelling in (_name, _name.capitalize(), _name.upper()):
        MONTHS[_spelling] = _i
MONTHS["Sept"] = MONTHS["sept"] = 9
MONTH_DIGITS: dict[str, str] = {name: f"{number:02d}" for name, number in MONTHS.items()}

_TWO: Final = tuple(f"{i:02d}" for i in range(100))
_DAYS_IN_MONTH: Final = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAY: Final = 86400


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _is_leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


class Zone:
    """The zone for stamps that carry none: a fixed offset or an IANA zone (offsets cached per hour)."""

    __slots__ = ("_cache", "fixed", "tz")

    def __init__(self, fixed: int | None, tz: ZoneInfo | None) -> None:
        self.fixed = fixed
        self.tz = tz
        self._cache: dict[tuple[int, int, int, int], int] = {}

    def offset_of_local(self, y: int, mo: int, d: int, h: int) -> int:
        if self.fixed is not None:
            return self.fixed
        key = (y, mo, d, h)
        cached = self._cache.get(key)
        if cached is None:
            assert self.tz is not None
            delta = datetime(y, mo, d, h, tzinfo=self.tz).utcoffset() or timedelta(0)
            cached = int(delta.total_seconds())
            if len(self._cache) > 8192:
                self._cache.clear()
            self._cache[key] = cached
        return cached


_OFFSET_RE: Final = re.compile(r"([+-])(\d\d):?(\d\d)?$")


def parse_offset(text: str) -> int | None:
    """Seconds east of UTC for ``Z``, ``UTC``, ``GMT``, ``+01``, ``+0100``, ``+01:00``; None if unreadable."""
    if text in ("Z", "z", "UTC", "GMT", "utc", "+00:00", "+0000"):
        return 0
    m = _OFFSET_RE.match(text)
    if m is None:
        return None
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 18 or minutes > 59:
        return None
    seconds = hours * 3600 + minutes * 60
    return -seconds if m.group(1) == "-" else seconds


@lru_cache(maxsize=32)
def resolve_zone(name: str) -> Zone:
    """A :class:`Zone` for a configured name; raises ValueError for an unknown one."""
    fixed = parse_offset(name.strip()) if name.strip() else 0
    if fixed is not None:
        return Zone(fixed, None)
    try:
        return Zone(None, ZoneInfo(name.strip()))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}: {exc}") from None


def _fraction(frac: str) -> str:
    n = len(frac)
    if n == 3 or n == 6:
        return frac
    if n < 3:
        return (frac + "000")[:3]
    return (frac + "000")[:6]


def _format_epoch(seconds: int, frac: str) -> str:
    days, rem = divmod(seconds, _DAY)
    # civil_from_days
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    y = yoe + era * 400 + (m <= 2)
    h, rem = divmod(rem, 3600)
    mi, s = divmod(rem, 60)
    year = str(y) if y >= 1000 else f"{y:04d}"
    return f"{year}-{_TWO[m]}-{_TWO[d]}T{_TWO[h]}:{_TWO[mi]}:{_TWO[s]}.{frac}Z"


def to_iso(
    now: float,
    zone: Zone,
    year: int | None,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    frac: str = "",
    offset: int | None = None,
) -> str | None:
    """UTC ISO text for a wall-clock stamp, or None when it names an impossible date.

    ``offset`` is the stamp's own zone in seconds east of UTC; None means "no zone given", so the
    configured zone applies. ``year`` None means the format carries no year: the current year is used,
    or the previous one if that would put the stamp more than a day in the future.
    """
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 24 and minute <= 59 and second <= 60):
        return None
    if second == 60:  # a leap second; Elasticsearch rejects :60
        second = 59
    if year is None:
        if day > _DAYS_IN_MONTH[month]:
            return None
        leap_day = day == 29 and month == 2
        year = time.gmtime(now).tm_year
        while leap_day and not _is_leap(year):  # Feb 29 belongs to the latest leap year
            year -= 1
        tz = offset if offset is not None else zone.offset_of_local(year, month, day, min(hour, 23))
        epoch = days_from_civil(year, month, day) * _DAY + hour * 3600 + minute * 60 + second - tz
        if epoch > now + _DAY:
            year -= 1
            while leap_day and not _is_leap(year):
                year -= 1
            if offset is None:
                tz = zone.offset_of_local(year, month, day, min(hour, 23))
            epoch = days_from_civil(year, month, day) * _DAY + hour * 3600 + minute * 60 + second - tz
        return _format_epoch(epoch, _fraction(frac))
    if not 1 <= year <= 9999:
        return None
    if day > _DAYS_IN_MONTH[month] or (month == 2 and day == 29 and not _is_leap(year)):
        return None
    if offset is None:
        offset = zone.offset_of_local(year, month, day, min(hour, 23))
    if offset == 0 and hour < 24:
        return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{_fraction(frac)}Z"
    epoch = days_from_civil(year, month, day) * _DAY + hour * 3600 + minute * 60 + second - offset
    if not 0 < epoch + 62135596800 < 315537897600:  # stays within years 1..9999 after the shift
        return None
    return _format_epoch(epoch, _fraction(frac))


def from_epoch(value: float | int | str) -> str | None:
    """UTC ISO text for epoch seconds, milliseconds, microseconds or nanoseconds (told apart by size)."""
    try:
        if isinstance(value, str):
            whole, _, frac_text = value.strip().partition(".")
            if not whole.lstrip("-").isdecimal() or (frac_text and not frac_text.isdecimal()):
                return None
            number = int(whole)
            if abs(number) >= 100_000_000_000:  # already sub-second units; the fraction is noise
                return from_epoch(number)
            return _format_epoch(number, _fraction(frac_text[:6]))
        if isinstance(value, bool):
            return None
        magnitude = abs(value)
        if magnitude >= 1e17:
            micros = int(value) // 1000
        elif magnitude >= 1e14:
            micros = int(value)
        elif magnitude >= 1e11:
            micros = round(value * 1000)
        else:
            micros = round(value * 1_000_000)
        seconds, micro = divmod(micros, 1_000_000)
        if not -62135596800 <= seconds < 253402300800:
            return None
        prefix = _epoch_prefixes.get(seconds) or _epoch_prefix(seconds)
        millis, rest = divmod(micro, 1000)
        if rest:
            return f"{prefix}{micro:06d}Z"
        return f"{prefix}{_THREE[millis]}Z"
    except (OverflowError, ValueError):
        return None


_THREE: Final = tuple(f"{i:03d}" for i in range(1000))
# Epoch second -> "YYYY-MM-DDTHH:MM:SS." (consecutive JSON lines mostly share their second).
_epoch_prefixes: dict[int, str] = {}


def _epoch_prefix(seconds: int) -> str:
    prefix = _format_epoch(seconds, "")[:-1]
    if len(_epoch_prefixes) >= 4096:
        _epoch_prefixes.clear()
    _epoch_prefixes[seconds] = prefix
    return prefix


# Last day of each month as text, for validating two-digit day strings without int().
_LAST_DAY: Final = {"01": "31", "02": "28", "03": "31", "04": "30", "05": "31", "06": "30",
             "07": "31", "08": "31", "09": "30", "10": "31", "11": "30", "12": "31"}  # fmt: skip
_PAD_FRACTION: Final = {0: "000", 1: "00", 2: "0", 3: "", 4: "00", 5: "0", 6: ""}

_year_cache: tuple[int, str, str] = (-1, "", "")


def _year_and_cutoff(now: float) -> tuple[str, str]:
    """The current UTC year and the ISO text of "now + 1 day" (newer stamps belong to last year)."""
    global _year_cache
    second = int(now)
    cached = _year_cache
    if cached[0] != second:
        today = time.gmtime(second)
        tomorrow = time.gmtime(second + 86400)
        cutoff = (
            f"{today.tm_year:04d}-{tomorrow.tm_mon:02d}-{tomorrow.tm_mday:02d}"
            f"T{tomorrow.tm_hour:02d}:{tomorrow.tm_min:02d}:{tomorrow.tm_sec:02d}"
        )
        if tomorrow.tm_year != today.tm_year:
            cutoff = "9999"  # tomorrow is next year: no stamp of this year is more than a day ahead
        cached = (second, f"{today.tm_year:04d}", cutoff)
        _year_cache = cached
    return cached[1], cached[2]


def text_to_iso(
    now: float,
    zone: Zone,
    year: str | None,
    month: str,
    day: str,
    hour: str,
    minute: str,
    second: str,
    frac: str = "",
    offset: int | None = None,
) -> str | None:
    """:func:`to_iso` from the digit strings a regex captured (``month`` as two digits).

    The common case (UTC, two-digit fields, no leap day) is validated by string comparison and
    assembled by concatenation, several times cheaper than integer formatting; the rest goes to
    :func:`to_iso`.
    """
    if (
        (offset == 0 or (offset is None and zone.fixed == 0))
        and len(day) == 2
        and len(hour) == 2
        and "01" <= month <= "12"
        and "01" <= day <= _LAST_DAY[month]
        and hour <= "23"
        and minute <= "59"
        and second <= "59"
        and len(frac) <= 6
    ):
        fraction = frac + _PAD_FRACTION[len(frac)]
        if year is None:
            current, cutoff = _year_and_cutoff(now)
            clock = f"{month}-{day}T{hour}:{minute}:{second}"
            if f"{current}-{clock}" > cutoff:
                return f"{int(current) - 1:04d}-{clock}.{fraction}Z"
            return f"{current}-{clock}.{fraction}Z"
        if len(year) == 4:
            return f"{year}-{month}-{day}T{hour}:{minute}:{second}.{fraction}Z"
    return to_iso(
        now,
        zone,
        None if year is None else int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        frac,
        offset,
    )


_ISO_RE: Final = re.compile(
    r"\s*(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?"
    r"\s?(Z|z|UTC|GMT|[+-]\d\d(?::?\d\d)?)?\s*$"
)


def from_iso_text(now: float, zone: Zone, text: str) -> str | None:
    """UTC ISO text for an ISO 8601 / RFC 3339 string (as in JSON logs); None if it is not one."""
    m = _ISO_RE.match(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    offset = parse_offset(tz) if tz else None
    if tz and offset is None:
        return None
    return text_to_iso(now, zone, y, mo, d, h or "00", mi or "00", s or "00", frac or "", offset)


def yearless_window(
    now: float,
    zone: Zone,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    offset: int | None = None,
) -> tuple[float, float] | None:
    """The clock readings for which :func:`to_iso` gives a year-less stamp the same year as at ``now``.

    Mirrors the year inference of :func:`to_iso`: the answer can only change when the current year
    does or when "now + 1 day" passes the stamp. None for Feb 29 (its year search is not worth
    mirroring): such stamps are not cached.
    """
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 24 and minute <= 59 and second <= 60):
        return _ALWAYS
    if day > _DAYS_IN_MONTH[month]:
        return _ALWAYS
    if day == 29 and month == 2:
        return None
    if second == 60:
        second = 59
    year = time.gmtime(now).tm_year
    tz = offset if offset is not None else zone.offset_of_local(year, month, day, min(hour, 23))
    epoch = days_from_civil(year, month, day) * _DAY + hour * 3600 + minute * 60 + second - tz
    start = days_from_civil(year, 1, 1) * _DAY
    if epoch > now + _DAY:  # last year's stamp until "now + 1 day" reaches it
        return (start, epoch - _DAY)
    return (max(start, epoch - _DAY), days_from_civil(year + 1, 1, 1) * _DAY)


# Not Final, unlike the other constants: mypyc (2.4) reads a Final tuple of floats as never set.
_ALWAYS = (float("-inf"), float("inf"))

# Appended to a cached "YYYY-MM-DDTHH:MM:SS." prefix after the fraction digits, by their count:
# pad to 3 or 6 digits, as _fraction does.
_FRACTION_TAIL: Final = ("000Z", "00Z", "0Z", "Z", "00Z", "0Z", "Z")


def with_fraction(prefix: str, frac: str) -> str:
    """A cached ``YYYY-MM-DDTHH:MM:SS.`` prefix completed with a line's fraction digits."""
    n = len(frac)
    if n <= 6:
        return f"{prefix}{frac}{_FRACTION_TAIL[n]}"
    return f"{prefix}{frac[:6]}Z"


_ingest_cache: tuple[int, str] = (-1, "")


def ingest_time(now: float) -> str:
    """ISO text for the ingest clock, cached per millisecond (consecutive records share it)."""
    global _ingest_cache
    millis = int(now * 1000)
    cached = _ingest_cache  # one read: another thread may swap the tuple, never half of it
    if cached[0] == millis:
        return cached[1]
    seconds, ms = divmod(millis, 1000)
    text = _format_epoch(seconds, f"{ms:03d}")
    _ingest_cache = (millis, text)
    return text
