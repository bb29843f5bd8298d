"""Which formats detection tries on a line, and in what order. Adding a format is one module in
``common/parsing/formats`` (declaring its ``Format``) plus its entries here.

A line is sorted by its first character into a shape (``shape_of``); each shape lists candidates,
tried in order, each with a cheap check on the text (a failed regex costs several times such a
check). The first candidate that returns a record wins; a ``final`` candidate whose check holds
ends the search even when it returns None. A line led by a timestamp is one candidate (detection's
``stamped`` step): detection reads the stamp once, then tries the ``AFTER_STAMP`` candidates on the
rest, chosen by the rest's first character. ``PAYLOAD`` lists what a syslog or journald message
may hold.

Some steps are detection's own rather than formats (reading a leading stamp, JSON whose values may
hold lines): ``candidates`` receives them as ``Steps`` and places them among the formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, NamedTuple

from common.parsing.format import Format
from common.parsing.formats import (
    access,
    apache_error,
    cri,
    generic,
    haproxy,
    journald,
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


class Candidate(NamedTuple):
    format: Format
    when: Callable[[str], bool] | None = None  # None: always tried
    final: bool = False


class StampKind(NamedTuple):
    """What detection knows of a leading timestamp, for the ``AFTER_STAMP`` candidates' ``stamp`` checks.

    These are decided once per kind when detection builds its tables, never per line.
    """

    style: str  # "iso", "slash", "compact", "compact-year" or "day-month"
    t_separator: bool  # an ISO stamp with "T" between date and time
    zone: int  # an ISO stamp's zone: NO_ZONE, COLON_ZONE ("+01:00", "Z") or OTHER_ZONE ("+0100", " UTC")
    bracketed: bool  # the stamp was in "[...]"


STYLES: Final = ("iso", "slash", "compact", "compact-year", "day-month")
NO_ZONE, COLON_ZONE, OTHER_ZONE = 0, 1, 2


class StampedCandidate(NamedTuple):
    format: Format
    when: Callable[[str], bool] | None = None  # a check on the text after the stamp; None: always
    stamp: Callable[[StampKind], bool] | None = None  # which stamps it may follow; None: any
    final: bool = False


class Steps(NamedTuple):
    """Detection's own steps, as formats."""

    stamped: Format  # a line led by a timestamp, any style
    stamped_not_iso: Format  # the same, when the line is known not to start with an ISO date
    bracket_stamped: Format  # "[<timestamp>] ..."
    json: Format  # a JSON line; string values that hold lines are parsed as lines
    json_payload: Format  # the same, as a syslog or journald payload
    nginx_payload: Format  # nginx's error_log sent to syslog keeps its own stamp


def _has_bracket(text: str) -> bool:
    return " [" in text


_COMPACT_YEAR_SEPARATORS: Final = frozenset("-T ")
_RFC5424_START_RE: Final = re.compile(r"<\d{1,3}>\d")


def _other_stamp(text: str) -> bool:
    # yy/MM/dd, yyyy/MM/dd, "yyMMdd HHmmss", yyyyMMdd-HH:mm:ss, "d Mon yyyy": where their digits stop.
    return text[4:5] != "-" and (
        text[2:3] == "/"
        or text[4:5] == "/"
        or text[6:7] == " "
        or text[8:9] in _COMPACT_YEAR_SEPARATORS
        or text[1:2] == " "
    )


def candidates(steps: Steps) -> dict[str, tuple[Candidate, ...]]:
    """Shape -> candidates in detection order."""
    return {
        "digit": (
            Candidate(steps.stamped, lambda t: t[4:5] == "-"),  # ISO first: the most common shape
            Candidate(logcat.THREADTIME, lambda t: t[2:3] == "-"),
            Candidate(redis.FORMAT, lambda t: ":" in t[1:8]),
            Candidate(access.FORMAT, _has_bracket),
            Candidate(haproxy.FORMAT, _has_bracket),
            Candidate(steps.stamped_not_iso, _other_stamp),
            Candidate(journald.UNIX, lambda t: "." in t[9:12]),
        ),
        "upper": (
            Candidate(klog.FORMAT, lambda t: t[0] in "IWEF" and t[1:2].isdecimal()),
            Candidate(logcat.BRIEF, lambda t: t[1:2] == "/"),
            Candidate(syslog.RFC3164, lambda t: t[3:4] == " "),
            Candidate(journald.FULL, lambda t: t[3:4] == " "),
            Candidate(python_logging.BASIC),
            Candidate(logfmt.FORMAT),
            Candidate(access.FORMAT, _has_bracket),
        ),
        "lower": (
            Candidate(logfmt.FORMAT),
            Candidate(access.FORMAT, _has_bracket),
            Candidate(syslog.RFC3164, lambda t: t[3:4] == " "),
        ),
        "{": (Candidate(steps.json),),
        "<": (
            Candidate(syslog.RFC5424, lambda t: _RFC5424_START_RE.match(t) is not None),
            Candidate(syslog.RFC3164),
        ),
        "[": (
            # "[2023-11-10 08:00:00,123] INFO ..." (Kafka, many web frameworks), or JVM unified
            # logging without a time decoration, which starts with the uptime: "[0.012s][info][gc]".
            Candidate(steps.bracket_stamped, lambda t: t[1:2].isdecimal()),
            Candidate(jvm_unified.UNTIMED, lambda t: t[1:2].isdecimal()),
            Candidate(apache_error.FORMAT, lambda t: not t[1:2].isdecimal()),
        ),
        # Lines starting with a character no format favours: only the shapes that allow it.
        "other": (
            Candidate(access.FORMAT, _has_bracket),
            Candidate(logfmt.FORMAT),
        ),
    }


def shape_of(first: str) -> str:
    """The shape of a line starting with ``first`` (one character)."""
    if first in "{<[":
        return first
    if first == ":" or not first.isascii():
        return "other"
    if first.isdecimal():
        return "digit"
    if first.isupper():
        return "upper"
    if first.islower() or first == "_":
        return "lower"
    return "other"


_SPACE_OR_DIGIT: Final = frozenset(" 0123456789")

# The first character of the text after the stamp -> candidates in detection order.
AFTER_STAMP: Final[dict[str, tuple[StampedCandidate, ...]]] = {
    "": (StampedCandidate(generic.FORMAT),),
    ",": (StampedCandidate(windows_cbs.FORMAT), StampedCandidate(generic.FORMAT)),
    " ": (
        StampedCandidate(
            nginx_error.FORMAT,
            when=lambda rest: rest[:2] == " [",
            stamp=lambda k: k.style == "slash" and not k.bracketed,
        ),
        StampedCandidate(cri.FORMAT, when=cri.is_cri, stamp=lambda k: k.t_separator, final=True),
        StampedCandidate(log4j.FORMAT),
        StampedCandidate(python_logging.AFTER_STAMP),
        StampedCandidate(logcat.AFTER_STAMP, when=lambda rest: rest[1:2] in _SPACE_OR_DIGIT),
        StampedCandidate(journald.RSYSLOG, stamp=lambda k: k.t_separator and k.zone == COLON_ZONE),
        StampedCandidate(journald.SHORT_ISO, stamp=lambda k: k.t_separator and k.zone == OTHER_ZONE),
        StampedCandidate(generic.FORMAT),
    ),
    # Any other first character.
    "other": (
        StampedCandidate(zap_console.FORMAT, when=lambda rest: rest[:1] == "\t"),
        StampedCandidate(jvm_unified.TIMED, when=lambda rest: rest[:1] == "[", stamp=lambda k: k.bracketed),
        StampedCandidate(generic.FORMAT),
    ),
}


def payload_candidates(steps: Steps) -> tuple[Candidate, ...]:
    """What a syslog or journald message may hold, in detection order."""
    return (
        Candidate(steps.json_payload, lambda t: t[:1] == "{", final=True),
        Candidate(klog.FORMAT, lambda t: t[:1] in "IWEF" and t[1:2].isdecimal(), final=True),
        Candidate(logfmt.FORMAT, lambda t: "=" in t[:64]),
        Candidate(access.FORMAT, lambda t: '] "' in t),
        Candidate(haproxy.FORMAT, lambda t: t[:1].isdecimal() and " [" in t[:48]),
        Candidate(steps.nginx_payload, lambda t: t[4:5] == "/" and " [" in t[19:30]),
    )
