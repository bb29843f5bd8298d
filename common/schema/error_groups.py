"""Error groups and their Redis key schema: one definition for the job's writer, the CLI and the API.

Under the stats prefix ``P`` (``LOGFLOW_STATS_PREFIX``, default ``logflow:stats``) and the window
size ``S`` seconds (``LOGFLOW_WINDOW_SECONDS``, default 60):

- ``P:errors:group:{fingerprint}`` — hash, one per group: ``fingerprint``, ``count``, ``first_seen``
  and ``last_seen`` (ISO-8601 UTC, event time), and a sample, the earliest record's ``message``,
  ``type``, ``dataset``, ``host``, ``service`` and ``template`` (``error.grouping.template``, may be
  empty).
- ``P:errors:by_last_seen`` — sorted set; member = fingerprint, score = last seen (epoch seconds).
- ``P:errors:by_count`` — sorted set; member = fingerprint, score = total count.
- ``P:{S}s:{start}:error`` — hash of one window: fingerprint -> count of error records in it
  (beside the window's other dimension hashes of ``common.schema.stats``; the window is the
  Kafka timestamp's, as for those, and late records are left out, as they are there).

Every key carries the stats' TTL (``LOGFLOW_STATS_TTL_SECONDS``, 7 days), renewed by each write of
a group, so a group quiet for longer than that is forgotten; the sorted sets are trimmed by last
seen. Values are absolute (the job's keyed state is the source of truth), so writing a group or a
window again after a failure sets the same values instead of adding to them.

The functions here build the commands (``(name, *args)`` tuples for ``execute_command``) and read
the replies; they touch no connection, so the writer and the readers stay trivial.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple
from urllib.parse import quote

from common.schema.alert import records_indices
from common.schema.stats import DEFAULT_PREFIX, StatsKeys

Command = tuple[str | int | float, ...]

DEFAULT_TTL_SECONDS: Final = 7 * 24 * 3600
# A reader looks at the most recently seen groups only: past that many, listing would cost more
# than a screen of "top errors" is worth (sort by count among the recent ones).
MAX_SCAN: Final = 5000
ORDERS: Final = ("last_seen", "count")
SAMPLE_FIELDS: Final = ("message", "type", "dataset", "host", "service", "template")
MAX_SAMPLE_CHARS: Final = 2048  # per sample field: a group's hash must stay small


def iso(epoch_seconds: float) -> str:
    """Epoch seconds as ISO-8601 UTC with milliseconds (the records' ``@timestamp`` style)."""
    return (
        datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def parse_iso(text: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass(frozen=True)
class ErrorGroupKeys:
    """Builds the Redis key names of the error groups under one stats prefix and window size."""

    prefix: str = DEFAULT_PREFIX
    window_seconds: int = 60

    @property
    def base(self) -> str:
        return f"{self.prefix}:errors"

    def group(self, fingerprint: str) -> str:
        return f"{self.base}:group:{fingerprint}"

    @property
    def by_last_seen(self) -> str:
        return f"{self.base}:by_last_seen"

    @property
    def by_count(self) -> str:
        return f"{self.base}:by_count"

    def window(self, start: int) -> str:
        return StatsKeys(self.prefix, self.window_seconds).dimension(start, "error")


class ErrorSighting(NamedTuple):
    """One error record on its way from the parsing operator to its group (keyed by fingerprint).

    A NamedTuple of plain values: it is pickled on the hop between the job's operators, where a
    tuple is the cheapest, and it carries only what the group keeps (not the whole record).
    """

    fingerprint: str
    at: float  # event time, epoch seconds: the record's @timestamp (its Kafka timestamp when it had none)
    ts_ms: int  # the Kafka timestamp: which statistics window the record counts in
    late: bool  # its window had closed when the job read it: counted in the group, not the window
    doc_id: str  # the record's event.id
    message: str = ""
    type: str = ""
    dataset: str = ""
    host: str = ""
    service: str = ""
    template: str = ""


@dataclass
class ErrorGroup:
    """One fingerprint's group: counts and times in event time, and its sample (its earliest record's)."""

    fingerprint: str
    count: int
    first_seen: float  # epoch seconds
    last_seen: float
    message: str = ""
    type: str = ""
    dataset: str = ""
    host: str = ""
    service: str = ""
    template: str = ""

    def to_hash(self) -> dict[str, str]:
        return {
            "fingerprint": self.fingerprint,
            "count": str(self.count),
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            **{name: getattr(self, name)[:MAX_SAMPLE_CHARS] for name in SAMPLE_FIELDS},
        }

    @classmethod
    def from_hash(cls, fingerprint: str, fields: Mapping[str, str]) -> ErrorGroup | None:
        """The group a hash holds, or None for a missing (expired) or unreadable one."""
        first = parse_iso(fields.get("first_seen", ""))
        last = parse_iso(fields.get("last_seen", ""))
        try:
            count = int(fields.get("count", ""))
        except ValueError:
            return None
        if first is None or last is None:
            return None
        return cls(
            fingerprint=fields.get("fingerprint") or fingerprint,
            count=count,
            first_seen=first,
            last_seen=last,
            **{name: fields.get(name, "") for name in SAMPLE_FIELDS},
        )

    def to_json(self) -> dict[str, Any]:
        """The shape ``logflow errors --json`` and the rules API show."""
        return {
            "fingerprint": self.fingerprint,
            "count": self.count,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "sample": {name: getattr(self, name) for name in SAMPLE_FIELDS},
        }


# ---- writing -------------------------------------------------------------------------------


def group_commands(keys: ErrorGroupKeys, group: ErrorGroup, ttl_seconds: int) -> list[Command]:
    """Set a group's hash and its place in both sorted sets (absolute values: idempotent)."""
    key = keys.group(group.fingerprint)
    fields: list[str] = []
    for name, value in group.to_hash().items():
        fields += [name, value]
    return [
        ("HSET", key, *fields),
        ("EXPIRE", key, ttl_seconds),
        ("ZADD", keys.by_last_seen, group.last_seen, group.fingerprint),
        ("ZADD", keys.by_count, group.count, group.fingerprint),
        ("EXPIRE", keys.by_last_seen, ttl_seconds),
        ("EXPIRE", keys.by_count, ttl_seconds),
    ]


def expired_query(keys: ErrorGroupKeys, now: float, ttl_seconds: int) -> Command:
    """The fingerprints whose hashes have expired by now (to pass to ``trim_commands``)."""
    return ("ZRANGEBYSCORE", keys.by_last_seen, "-inf", f"({now - ttl_seconds}")


def trim_commands(
    keys: ErrorGroupKeys, now: float, ttl_seconds: int, expired: Sequence[str]
) -> list[Command]:
    """Drop expired groups from both sorted sets (the sets outlive single groups, so no TTL does it)."""
    commands: list[Command] = []
    if expired:
        commands.append(("ZREM", keys.by_count, *expired))
    commands.append(("ZREMRANGEBYSCORE", keys.by_last_seen, "-inf", f"({now - ttl_seconds}"))
    return commands


def window_count_commands(
    keys: ErrorGroupKeys, start: int, fingerprint: str, count: int, ttl_seconds: int
) -> list[Command]:
    """Set one fingerprint's count in one window's hash (absolute: the job's keyed state holds it).

    One field per fingerprint, not the whole hash: the job counts each fingerprint in its own
    keyed state, so no one place knows a window's every fingerprint.
    """
    key = keys.window(start)
    return [("HSET", key, fingerprint, count), ("EXPIRE", key, ttl_seconds)]


# ---- reading -------------------------------------------------------------------------------


def candidates_query(keys: ErrorGroupKeys, since_epoch: float) -> Command:
    """The fingerprints last seen at or after ``since``, most recent first, at most MAX_SCAN."""
    return ("ZREVRANGEBYSCORE", keys.by_last_seen, "+inf", since_epoch, "LIMIT", 0, MAX_SCAN)


def groups_from_replies(fingerprints: Sequence[str], hashes: Sequence[Mapping[str, str]]) -> list[ErrorGroup]:
    """Pair HGETALL replies with their fingerprints; expired or unreadable groups are left out."""
    found: list[ErrorGroup] = []
    for fingerprint, fields in zip(fingerprints, hashes, strict=True):
        group = ErrorGroup.from_hash(fingerprint, fields) if fields else None
        if group is not None:
            found.append(group)
    return found


def select(
    groups: Iterable[ErrorGroup],
    *,
    since_epoch: float,
    new_only: bool = False,
    order: str = "last_seen",
    limit: int = 50,
) -> list[ErrorGroup]:
    """The top groups seen since ``since`` (first seen since then with ``new_only``), best first."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    chosen = [
        g for g in groups if g.last_seen >= since_epoch and (not new_only or g.first_seen >= since_epoch)
    ]
    if order == "count":
        chosen.sort(key=lambda g: (-g.count, -g.last_seen, g.fingerprint))
    else:
        chosen.sort(key=lambda g: (-g.last_seen, -g.count, g.fingerprint))
    return chosen[: max(limit, 0)]


def window_counts(fields: Mapping[str, str]) -> dict[str, int]:
    """A window's ``:error`` hash as fingerprint -> count (unreadable counts left out)."""
    counts: dict[str, int] = {}
    for fingerprint, value in fields.items():
        try:
            counts[fingerprint] = int(value)
        except ValueError:
            continue
    return counts


def records_link(fingerprint: str, index_prefix: str, es_url: str) -> dict[str, Any]:
    """Where a group's records are in Elasticsearch: a term query on ``error.fingerprint`` over the
    records' indices (not the alerts', whose new-group alert carries the fingerprint too).

    ``index`` and ``query`` are for a client's ``_search``; ``search_url`` is the same search as a
    ready GET (``q=`` with the value quoted, since a rule may set a fingerprint with spaces).
    """
    index = records_indices(index_prefix)
    escaped = fingerprint.replace("\\", "\\\\").replace('"', '\\"')
    q = quote(f'error.fingerprint:"{escaped}"', safe="")
    base = es_url.split(",")[0].strip().rstrip("/")
    return {
        "index": index,
        "query": {"query": {"term": {"error.fingerprint": fingerprint}}, "sort": [{"@timestamp": "desc"}]},
        "search_url": f"{base}/{index}/_search?q={q}&sort=@timestamp:desc",
    }
