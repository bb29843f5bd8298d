"""The ECS-shaped record.

A record is a plain nested ``dict`` (JSON-ready) using Elastic Common Schema field names, e.g.
``{"@timestamp": ..., "message": ..., "event": {"original": ..., "dataset": ...}, "log": {"level": ...}}``.
Fields are always nested, never dotted keys, so Elasticsearch and the rules see one shape. Plain
dicts keep the hot path cheap: the Flink job parses and serialises hundreds of thousands per second.
"""

from __future__ import annotations

from typing import Any

EcsRecord = dict[str, Any]

# The canonical lowercase levels, most to least verbose; parsers map every source spelling onto these.
LEVELS: tuple[str, ...] = (
    "trace",
    "debug",
    "info",
    "notice",
    "warn",
    "error",
    "critical",
    "alert",
    "emergency",
    "fatal",
)

_MISSING = object()


def get_field(record: EcsRecord, path: str, default: Any = None) -> Any:
    """Value at a dotted ECS path (``"log.level"``), or ``default`` when any step is missing."""
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, dict):
            return default
        node = node.get(part, _MISSING)
        if node is _MISSING:
            return default
    return node


def has_field(record: EcsRecord, path: str) -> bool:
    return get_field(record, path, _MISSING) is not _MISSING


def set_field(record: EcsRecord, path: str, value: Any) -> None:
    """Set a dotted path, creating intermediate objects; a scalar in the way is replaced."""
    parts = path.split(".")
    node = record
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def remove_field(record: EcsRecord, path: str) -> Any:
    """Remove a dotted path and return its value (``None`` if absent); empty parents are pruned."""
    parts = path.split(".")
    trail: list[tuple[dict[str, Any], str]] = []
    node: Any = record
    for part in parts[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return None
        trail.append((node, part))
        node = node[part]
    if not isinstance(node, dict):
        return None
    value = node.pop(parts[-1], None)
    for parent, key in reversed(trail):
        if parent[key]:
            break
        del parent[key]
    return value


def add_tag(record: EcsRecord, tag: str) -> None:
    tags = record.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)
