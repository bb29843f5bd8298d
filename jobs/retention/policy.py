"""Which indices are logflow's daily indices, and which of those are past the retention.

Pure date arithmetic and name matching, no Elasticsearch: the part of pruning that decides what is
deleted is tested here exhaustively, and the client code only lists and deletes what this returns.

The job names its indices ``<prefix>-<dataset>-<yyyy.MM.dd>``
(``jobs/sinks/elasticsearch/request_builder.py``): the dataset is lower-cased, made of
``[a-z0-9._-]``, starts with a letter or digit and has at most 100 characters; the day is the UTC
day of the Kafka timestamp. Only names of exactly that shape with a
real calendar date are candidates, so an index of another prefix (``logsearch-…`` next to ``logs``),
a rollover-style ``…-000001``, or a name with an impossible date is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

# What LOGFLOW_INDEX_PREFIX may be for pruning: a valid index-name start without wildcard,
# comma or other characters that would widen an Elasticsearch index expression.
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]{0,150}$")
_DATASET = r"[a-z0-9][a-z0-9._-]{0,99}"
_DAY = r"(?P<year>\d{4})\.(?P<month>\d{2})\.(?P<day>\d{2})"


class RetentionError(ValueError):
    """A retention setting or an index prefix that pruning cannot work with."""


@dataclass(frozen=True, order=True)
class DailyIndex:
    """One of logflow's daily indices, as read back from its name."""

    day: date
    dataset: str
    name: str


def check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise RetentionError(
            f"LOGFLOW_INDEX_PREFIX must be lower-case letters, digits, '.', '_' or '-' and start with a "
            f"letter or digit to prune by it, got {prefix!r}"
        )
    return prefix


def name_pattern(prefix: str) -> re.Pattern[str]:
    """``<prefix>-<dataset>-<yyyy.MM.dd>`` for one prefix, anchored at both ends.

    The dataset may itself contain dashes and dots (``nginx.access``, ``k8s-audit``); the date is
    anchored at the end, so the split is unambiguous.
    """
    return re.compile(rf"^{re.escape(check_prefix(prefix))}-(?P<dataset>{_DATASET})-{_DAY}$")


def parse_index(prefix: str, name: str, pattern: re.Pattern[str] | None = None) -> DailyIndex | None:
    """The daily index ``name`` stands for, or None when it is not one of logflow's."""
    match = (pattern or name_pattern(prefix)).match(name)
    if match is None:
        return None
    try:
        day = date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None
    return DailyIndex(day, match["dataset"], name)


def oldest_kept_day(now: datetime, retention_days: int) -> date:
    """The first UTC day that is kept; every earlier day is past the retention.

    A day's index is deleted once all of it lies more than ``retention_days`` × 24 h in the past:
    with 30 days, at 2026-12-04T00:00Z the day 2026-11-03 (which ended exactly 30 days earlier)
    goes and 2026-11-04 stays. So no event younger than the retention is ever deleted, and at most
    one extra day is kept.
    """
    if retention_days < 1:
        raise RetentionError(f"retention must be at least 1 day, got {retention_days}")
    if now.tzinfo is None:
        raise RetentionError("the current time must be timezone-aware")
    today = now.astimezone(UTC).date()
    return today - timedelta(days=retention_days)


@dataclass(frozen=True)
class Selection:
    expired: tuple[DailyIndex, ...]
    kept: tuple[DailyIndex, ...]
    # Names under the prefix that are not logflow's daily indices (they always survive).
    foreign: tuple[str, ...]


def select_expired(prefix: str, names: Iterable[str], now: datetime, retention_days: int) -> Selection:
    """Split index names into expired daily indices, kept daily indices and foreign names."""
    pattern = name_pattern(prefix)
    first_kept = oldest_kept_day(now, retention_days)
    expired: list[DailyIndex] = []
    kept: list[DailyIndex] = []
    foreign: list[str] = []
    for name in names:
        index = parse_index(prefix, name, pattern)
        if index is None:
            foreign.append(name)
        elif index.day < first_kept:
            expired.append(index)
        else:
            kept.append(index)
    return Selection(tuple(sorted(expired)), tuple(sorted(kept)), tuple(sorted(foreign)))


_DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_interval(text: str) -> int:
    """``30s``, ``15m``, ``1h``, ``1d`` → seconds (at least one)."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) < 1:
        raise RetentionError(f"expected an interval like 30m, 1h or 1d, got {text!r}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
