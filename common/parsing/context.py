"""Per-message parse state handed to every format parser: the clock reading, the zone and the limits."""

from __future__ import annotations

from common.parsing.options import ParseOptions
from common.parsing.timestamps import Zone, resolve_zone, text_to_iso, to_iso


class Context:
    __slots__ = ("max_json_depth", "max_labels", "now", "options", "zone")

    def __init__(self, options: ParseOptions, now: float) -> None:
        self.options = options
        self.now = now
        self.zone: Zone = resolve_zone(options.timezone)
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
        """Like :meth:`stamp` but from the digit strings a regex captured (``month`` two digits)."""
        return text_to_iso(self.now, self.zone, year, month, day, hour, minute, second, frac, offset)
