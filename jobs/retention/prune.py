"""``logflow indices prune``'s Elasticsearch side: list logflow's daily indices, delete expired ones.

Listing uses wildcard expressions (read-only); deleting names every index explicitly, in requests
short enough for Elasticsearch's 4 KB request line, so it works with
``action.destructive_requires_name: true`` and can never widen to an index that was not listed.
Indices that carry an alias, and data streams, are reported as skipped and never deleted: an
alias is someone's deliberate handle on that index, and a data stream has its own lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, TransportError

from .policy import DailyIndex, oldest_kept_day, parse_index, select_expired

# Elasticsearch rejects request lines over http.max_initial_line_length (4 KB by default).
_MAX_NAMES_CHARS = 3000


@dataclass(frozen=True)
class IndexFacts:
    """What the report says about one expired index (docs and bytes are None for a closed index)."""

    index: DailyIndex
    docs: int | None
    bytes: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index.name,
            "dataset": self.index.dataset,
            "day": self.index.day.isoformat(),
            "docs": self.docs,
            "bytes": self.bytes,
        }


@dataclass
class PruneReport:
    prefix: str
    retention_days: int
    oldest_kept_day: str
    dry_run: bool
    expired: list[IndexFacts] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def total_docs(self) -> int:
        return sum(facts.docs or 0 for facts in self.expired)

    @property
    def total_bytes(self) -> int:
        return sum(facts.bytes or 0 for facts in self.expired)

    def to_json(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "retention_days": self.retention_days,
            "oldest_kept_day": self.oldest_kept_day,
            "dry_run": self.dry_run,
            "expired": [facts.to_json() for facts in self.expired],
            "deleted": self.deleted,
            "total_docs": self.total_docs,
            "total_bytes": self.total_bytes,
            "kept": self.kept,
            "skipped": self.skipped,
            "foreign": self.foreign,
            "errors": self.errors,
        }


def _resolve(client: Any, prefix: str) -> dict[str, Any]:
    response = client.indices.resolve_index(name=f"{prefix}-*", expand_wildcards="open,closed")
    return dict(response.body if hasattr(response, "body") else response)


def _facts(client: Any, prefix: str) -> dict[str, tuple[int | None, int | None]]:
    rows = client.cat.indices(
        index=f"{prefix}-*",
        expand_wildcards="open,closed",
        format="json",
        bytes="b",
        h="index,docs.count,store.size",
    )
    body = rows.body if hasattr(rows, "body") else rows
    facts: dict[str, tuple[int | None, int | None]] = {}
    for row in body:
        facts[row["index"]] = (_int_or_none(row.get("docs.count")), _int_or_none(row.get("store.size")))
    return facts


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def name_batches(names: Sequence[str], max_chars: int = _MAX_NAMES_CHARS) -> Iterator[list[str]]:
    """Names grouped so that each comma-joined group stays under ``max_chars``."""
    batch: list[str] = []
    length = 0
    for name in names:
        if batch and length + 1 + len(name) > max_chars:
            yield batch
            batch, length = [], 0
        length += len(name) + (1 if batch else 0)
        batch.append(name)
    if batch:
        yield batch


def prune(client: Any, prefix: str, retention_days: int, now: datetime, dry_run: bool) -> PruneReport:
    """Delete (or with ``dry_run`` only list) the daily indices under ``prefix`` past the retention."""
    resolved = _resolve(client, prefix)
    concrete = [entry for entry in resolved.get("indices", []) if isinstance(entry, dict)]
    names = [entry["name"] for entry in concrete]
    selection = select_expired(prefix, names, now, retention_days)
    report = PruneReport(prefix, retention_days, oldest_kept_day(now, retention_days).isoformat(), dry_run)
    report.kept = [index.name for index in selection.kept]
    report.foreign = list(selection.foreign)
    by_name = {entry["name"]: entry for entry in concrete}
    deletable: list[DailyIndex] = []
    for index in selection.expired:
        entry = by_name[index.name]
        if entry.get("data_stream"):
            report.skipped.append(
                {"index": index.name, "reason": f"backs data stream {entry['data_stream']}"}
            )
        elif entry.get("aliases"):
            aliases = ", ".join(entry["aliases"])
            report.skipped.append({"index": index.name, "reason": f"has aliases ({aliases})"})
        else:
            deletable.append(index)
    for kind, key in (("alias", "aliases"), ("data stream", "data_streams")):
        for entry in resolved.get(key, []):
            if parse_index(prefix, entry.get("name", "")) is not None:
                report.skipped.append({"index": entry["name"], "reason": f"is a {kind}, not an index"})
    if not deletable:
        return report
    facts = _facts(client, prefix)
    report.expired = [IndexFacts(index, *facts.get(index.name, (None, None))) for index in deletable]
    if dry_run:
        return report
    for batch in name_batches([index.name for index in deletable]):
        try:
            # Explicit names only; expand_wildcards=none makes even a stray pattern match nothing.
            client.indices.delete(index=",".join(batch), ignore_unavailable=True, expand_wildcards="none")
        except (ApiError, TransportError) as exc:
            # One failed request must not hide what the others deleted.
            report.errors.append(f"deleting {', '.join(batch)}: {exc}")
            continue
        report.deleted.extend(batch)
    return report
