"""Map every source spelling of a severity onto the canonical ECS levels in ``common.schema.ecs.LEVELS``."""

from __future__ import annotations

_CANONICAL: dict[str, str] = {
    # single letters: klog (I/W/E/F), logcat (V/D/I/W/E/F/A), log4j-ish abbreviations
    "t": "trace",
    "v": "trace",
    "d": "debug",
    "i": "info",
    "n": "notice",
    "w": "warn",
    "e": "error",
    "c": "critical",
    "f": "fatal",
    "a": "fatal",  # logcat "Assert"
    # words
    "trace": "trace",
    "trc": "trace",
    "verbose": "trace",
    "verb": "trace",
    "finest": "trace",
    "finer": "debug",
    "fine": "debug",
    "config": "debug",
    "debug": "debug",
    "dbg": "debug",
    "debug1": "debug",
    "debug2": "debug",
    "debug3": "debug",
    "info": "info",
    "inf": "info",
    "information": "info",
    "informational": "info",
    "success": "info",
    "notice": "notice",
    "note": "notice",
    "warn": "warn",
    "warning": "warn",
    "wrn": "warn",
    "error": "error",
    "err": "error",
    "eror": "error",
    "severe": "error",
    "crit": "critical",
    "critical": "critical",
    "crt": "critical",
    "dpanic": "critical",  # zap: panics in development only
    "alert": "alert",
    "alrt": "alert",
    "emerg": "emergency",
    "emergency": "emergency",
    "panic": "emergency",  # syslog's old name for emerg; zap panics too
    "fatal": "fatal",
    "ftl": "fatal",
    "fatl": "fatal",
}

# RFC 5424 severity codes (also journald PRIORITY).
SYSLOG_SEVERITY: tuple[str, ...] = (
    "emergency",
    "alert",
    "critical",
    "error",
    "warn",
    "notice",
    "info",
    "debug",
)

# pino / bunyan numeric levels.
_NUMERIC: dict[int, str] = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}


def normalize_level(value: object) -> str | None:
    """Canonical level for a source value (string or number), or None if it is not a level at all."""
    if isinstance(value, str):
        found = _CANONICAL.get(value)
        if found is not None:
            return found
        key = value.strip().strip("[]<>:").lower()
        found = _CANONICAL.get(key)
        if found is None and key.isdecimal():
            return normalize_level(int(key))
        return found
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = int(value)
        if number in _NUMERIC:
            return _NUMERIC[number]
        if 0 <= number <= 7 and number == value:
            return SYSLOG_SEVERITY[number]
        if 10 < number < 70:  # pino custom levels between the standard ones: round down
            return _NUMERIC[number // 10 * 10]
    return None


# Pre-fill exact-case spellings so the hot path is a single dict hit.
for _key, _level in list(_CANONICAL.items()):
    _CANONICAL.setdefault(_key.upper(), _level)
    _CANONICAL.setdefault(_key.capitalize(), _level)
