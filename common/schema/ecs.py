"""The ECS-shaped record: its fields, their Elasticsearch mapping, and the helpers that address them.

A record is a plain nested ``dict`` (JSON-ready) using Elastic Common Schema field names, e.g.
``{"@timestamp": ..., "message": ..., "event": {"original": ..., "dataset": ...}, "log": {"level": ...}}``.
Fields are always nested, never dotted keys, so Elasticsearch and the rules see one shape. Plain
dicts keep the hot path cheap: the Flink job parses and serialises hundreds of thousands per second.

Who writes what: the parsers every field of ``ECS_PROPERTIES`` but ``rule``, ``alert`` and
``logflow``; the job ``event.id`` and ``logflow.kafka`` (``set_source``); the rules engine
``rule.id`` (the rules that matched) and whatever a rule's actions set; alerts are records of their
own (``common.schema.alert``). ``ECS_PROPERTIES`` is the mapping the job's index template installs,
so a field added to records is added here, with its type.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

EcsRecord = dict[str, Any]

_MISSING = object()

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
# Stack traces and URLs are looked up by exact value and prefix, and can be long.
_KEYWORD_LONG = {"type": "keyword", "ignore_above": 32766}
_TEXT_WITH_KEYWORD = {
    "type": "text",
    "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}},
}

_KUBERNETES_CONTROLLERS = ("deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob")


def _keywords(*fields: str | dict[str, Any]) -> dict[str, Any]:
    """An object of keyword fields; a dict argument adds nested objects as they are."""
    properties: dict[str, Any] = {}
    for entry in fields:
        if isinstance(entry, str):
            properties[entry] = _KEYWORD
        else:
            properties.update(entry)
    return {"properties": properties}


# Only field types of Elasticsearch's core distribution (no ``wildcard`` or ``match_only_text``),
# so the mapping installs on any 8.x cluster, including the local stack's.
ECS_PROPERTIES: dict[str, Any] = {
    "@timestamp": {"type": "date"},
    "message": {"type": "text"},
    "tags": _KEYWORD,
    "labels": {"type": "object", "dynamic": True},
    "event": {
        "properties": {
            "original": {"type": "keyword", "index": False, "doc_values": False},
            "dataset": _KEYWORD,
            "ingested": {"type": "date"},
            # The document's ``_id`` (``document_id``), which is searchable itself (``ids`` query, a
            # term on ``_id``); indexing this copy too, a unique term per document, cost
            # Elasticsearch ~20% of its CPU per document (bench/README.md, "Elasticsearch's share").
            "id": {"type": "keyword", "index": False, "doc_values": False},
            "kind": _KEYWORD,
            "reason": _KEYWORD,
            "action": _KEYWORD,
            "created": {"type": "date"},
            "severity": {"type": "long"},
            "duration": {"type": "long"},
        }
    },
    "log": {
        "properties": {
            "level": _KEYWORD,
            "logger": _KEYWORD,
            "offset": {"type": "long"},
            "file": {"properties": {"path": _KEYWORD_LONG}},
            "syslog": {
                "properties": {
                    "priority": {"type": "long"},
                    "msgid": _KEYWORD,
                    "facility": {"properties": {"code": {"type": "long"}, "name": _KEYWORD}},
                    "severity": {"properties": {"code": {"type": "long"}, "name": _KEYWORD}},
                }
            },
            "origin": {
                "properties": {
                    "file": {"properties": {"name": _KEYWORD, "line": {"type": "long"}}},
                    "function": _KEYWORD,
                }
            },
        }
    },
    "host": {
        "properties": {
            "name": _KEYWORD,
            "hostname": _KEYWORD,
            "ip": {"type": "ip"},
            "id": _KEYWORD,
            "architecture": _KEYWORD,
            "mac": _KEYWORD,
            "os": _keywords("type", "name", "version", "full", "platform", "family", "kernel"),
        }
    },
    "process": {
        "properties": {
            "name": _KEYWORD,
            "pid": {"type": "long"},
            "executable": _KEYWORD_LONG,
            "command_line": _KEYWORD_LONG,
            "thread": {"properties": {"id": {"type": "long"}, "name": _KEYWORD}},
        }
    },
    "source": {"properties": {"ip": {"type": "ip"}, "address": _KEYWORD, "port": {"type": "long"}}},
    "client": {"properties": {"ip": {"type": "ip"}, "address": _KEYWORD}},
    "http": {
        "properties": {
            "version": _KEYWORD,
            "request": {"properties": {"method": _KEYWORD, "referrer": _KEYWORD}},
            "response": {
                "properties": {
                    "status_code": {"type": "long"},
                    "body": {"properties": {"bytes": {"type": "long"}}},
                }
            },
        }
    },
    "url": {
        "properties": {"original": _KEYWORD_LONG, "domain": _KEYWORD, "path": _KEYWORD, "query": _KEYWORD}
    },
    "user_agent": {"properties": {"original": _TEXT_WITH_KEYWORD}},
    "user": {"properties": {"name": _KEYWORD}},
    "error": {
        "properties": {
            "type": _KEYWORD,
            "message": {"type": "text"},
            "stack_trace": _KEYWORD_LONG,
            # Error groups (common/errors, docs/errors.md): looked up by exact value.
            "fingerprint": _KEYWORD,
            "grouping": {"properties": {"template": _KEYWORD_LONG}},
        }
    },
    # Shippers' metadata (common/parsing/envelopes) and OTLP resources, in ECS's and Filebeat's layout.
    "agent": _keywords("type", "name", "version", "id", "ephemeral_id"),
    "service": _keywords("name", "version", "environment", {"node": _keywords("name")}),
    "trace": _keywords("id"),
    "span": _keywords("id"),
    "container": _keywords("id", "name", "runtime", {"image": _keywords("name", "tag")}),
    "orchestrator": _keywords("type", {"cluster": _keywords("name", "url")}),
    "cloud": _keywords(
        "provider",
        "region",
        "availability_zone",
        {"account": _keywords("id")},
        {"service": _keywords("name")},
    ),
    "kubernetes": {
        "properties": {
            "pod": {"properties": {"name": _KEYWORD, "uid": _KEYWORD, "ip": {"type": "ip"}}},
            "namespace": _KEYWORD,
            "namespace_uid": _KEYWORD,
            "node": _keywords("name", "hostname"),
            "container": _keywords("name"),
            **{kind: _keywords("name") for kind in _KUBERNETES_CONTROLLERS},
        }
    },
    # Written by the rules engine: the ids of the rules that matched.
    "rule": {"properties": {"id": _KEYWORD, "name": _KEYWORD}},
    "alert": {"type": "object", "dynamic": True},
    # Written by the job: where in Kafka the record was read (``set_source``).
    "logflow": {
        "properties": {
            "kafka": {
                "properties": {
                    "topic": _KEYWORD,
                    "partition": {"type": "integer"},
                    # Doc values only: sorting and range filters still work (from doc values), without
                    # a points index that no query of ours uses and every document pays for.
                    "offset": {"type": "long", "index": False},
                    # The record's place among those its message fanned out into (OTLP).
                    "index": {"type": "integer"},
                    # Every message of a joined multi-line event, the first one's being ``offset``.
                    "offsets": {"type": "long"},
                }
            }
        }
    },
}

# How fields the mapping does not name are mapped: strings as keywords, ``labels`` as keywords
# whatever their value, so a free-form JSON log cannot claim a field's type and break later records.
DYNAMIC_TEMPLATES: list[dict[str, Any]] = [
    {"labels_as_keywords": {"path_match": "labels.*", "mapping": _KEYWORD}},
    {"strings_as_keywords": {"match_mapping_type": "string", "mapping": _KEYWORD}},
]


def document_id(topic: str, partition: int, offset: int, index: int | None = None) -> str:
    """A record's ``event.id``: its Kafka position. Deterministic, so a replay overwrites.

    ``index`` is the record's place among those one message fans out into (OTLP: one per log
    record), so each gets ``topic:partition:offset:index``; a message holding one record keeps the
    plain position (``index`` None), the id every record had before fan-out existed, so replaying
    offsets written by an older job overwrites instead of duplicating.
    """
    position = f"{topic}:{partition}:{offset}"
    return position if index is None else f"{position}:{index}"


def set_source(record: EcsRecord, topic: str, partition: int, offset: int, index: int | None = None) -> None:
    """The fields the job adds to every parsed record: its id and where in Kafka it was read."""
    event = record.setdefault("event", {})
    event["id"] = document_id(topic, partition, offset, index)
    kafka: dict[str, Any] = {"topic": topic, "partition": partition, "offset": offset}
    if index is not None:
        kafka["index"] = index
    record["logflow"] = {"kafka": kafka}


def to_json(document: Any) -> str:
    """A record's JSON: orjson (a quarter of json.dumps' cost per record), json.dumps when it refuses.

    orjson refuses what valid UTF-8 JSON cannot hold as it is — lone surrogates (from JSON input's
    ``\\ud800`` escapes), integers beyond 64 bits, non-string keys — and json.dumps writes those
    with ASCII escapes, which Elasticsearch decodes. NaN and infinities become null in both.
    """
    try:
        return orjson.dumps(document, default=str).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        return json.dumps(_finite(document), separators=(",", ":"), ensure_ascii=True, default=str)


def _finite(value: Any) -> Any:
    # json.dumps writes NaN and Infinity, which are not JSON: Elasticsearch would reject the record.
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


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
