"""Per-message parse state handed to every format parser: the clock reading, the zone and the limits."""

from __future__ import annotations

import time

from common.parsing.options import ParseOptions
from common.parsing.timestamps import Zone, resolve_zone, to_iso

# Last day of each month as text, for validating two-digit day strings without int().
_LAST_DAY = {"01": "31", "02": "28", "03": "31", "04": "30", "05": "31", "06": "30",
             "07": "31", "08": "31", "09": "30", "10": "31", "11": "30", "12": "31"}  # fmt: skip
_FRACTION = {0: "000", 1: "00", 2: "0", 3: "", 4: "00", 5: "0", 6: ""}

_year_cache: tuple[int, str, str] = (-1, "", "")


def _year_and_cutoff(now: float) -> tuple[str, str]:
    """The current UTC year and the ISO text of "now + 1 day" (newer stamps belong to last year)."""
    global _year_cache
    second = int(now)
    cached = _year_cache
    if cached[0] != second:
        tomorrow = time.gmtime(second + 86400)
        cutoff = (
            f"{time.gmtime(second).tm_year:04d}-{tomorrow.tm_mon:02d}-{tomorrow.tm_mday:02d}"
            f"T{tomorrow.tm_hour:02d}:{tomorrow.tm_min:02d}:{tomorrow.tm_sec:02d}"
        )
        if tomorrow.tm_year != time.gmtime(second).tm_year:
            cutoff = "9999"  # tomorrow is next year: no stamp of this year is more than a day ahead
        cached = (second, f"{time.gmtime(second).tm_year:04d}", cutoff)
        _year_cache = cached
    return cached[1], cached[2]


class Context:
    __slots__ = ("max_json_depth", "max_labels", "now", "options", "utc", "zone")

    def __init__(self, options: ParseOptions, now: float) -> None:
        self.options = options
        self.now = now
        self.zone: Zone = resolve_zone(options.timezone)
        self.utc = self.zone.fixed == 0
        self.max_json_depth = options.max_json_depth
        self.max_labels = options.max_labels

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
        """Like :meth:`stamp` but from the digit strings a regex captured (``month`` two digits).

        The common case (zone UTC, two-digit fields, no leap day) is validated by string comparison
        and assembled by concatenation, which is several times cheaper than integer formatting.
        """
        if (
            self.utc
            and not offset
            and len(day) == 2
            and len(hour) == 2
            and "01" <= month <= "12"
            and "01" <= day <= _LAST_DAY[month]
            and hour <= "23"
            and minute <= "59"
            and second <= "59"
            and len(frac) <= 6
        ):
            fraction = frac + _FRACTION[len(frac)]
            if year is None:
                current, cutoff = _year_and_cutoff(self.now)
                clock = f"{month}-{day}T{hour}:{minute}:{second}"
                if f"{current}-{clock}" > cutoff:
                    return f"{int(current) - 1:04d}-{clock}.{fraction}Z"
                return f"{current}-{clock}.{fraction}Z"
            if len(year) == 4:
                return f"{year}-{month}-{day}T{hour}:{minute}:{second}.{fraction}Z"
        return to_iso(
            self.now,
            self.zone,
            None if year is None else int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            frac,
            offset,
        )
