"""The index template the job installs at start for ``<prefix>-*`` indices.

Only field types of Elasticsearch's core distribution are used (no ``wildcard`` or
``match_only_text``), so the template installs on any 8.x cluster, including the local stack's.
Explicit mappings for the ECS fields logflow writes (keyword, text, ip, date, numbers), string
fields it does not know mapped as keywords, and ``labels`` kept as keywords whatever their value —
so a free-form JSON log cannot claim a field's type and break later documents. A document that
still conflicts (a non-IP in ``source.ip``, an object where a keyword is mapped) is rejected by
Elasticsearch and dead-lettered with the reason.
"""

from __future__ import annotations

from typing import Any

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
# Stack traces and URLs are looked up by exact value and prefix, and can be long.
_KEYWORD_LONG = {"type": "keyword", "ignore_above": 32766}
_TEXT_WITH_KEYWORD = {
    "type": "text",
    "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}},
}

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
            "id": _KEYWORD,
            "kind": _KEYWORD,
            "severity": {"type": "long"},
            "duration": {"type": "long"},
        }
    },
    "log": {
        "properties": {
            "level": _KEYWORD,
            "logger": _KEYWORD,
            "origin": {
                "properties": {
                    "file": {"properties": {"name": _KEYWORD, "line": {"type": "long"}}},
                    "function": _KEYWORD,
                }
            },
        }
    },
    "host": {"properties": {"name": _KEYWORD, "hostname": _KEYWORD, "ip": {"type": "ip"}}},
    "process": {
        "properties": {
            "name": _KEYWORD,
            "pid": {"type": "long"},
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
        }
    },
    "rule": {"properties": {"id": _KEYWORD, "name": _KEYWORD}},
    "alert": {"type": "object", "dynamic": True},
    "logflow": {
        "properties": {
            "kafka": {
                "properties": {
                    "topic": _KEYWORD,
                    "partition": {"type": "integer"},
                    "offset": {"type": "long"},
                }
            }
        }
    },
}


def index_template(prefix: str) -> dict[str, Any]:
    return {
        "index_patterns": [f"{prefix}-*"],
        "priority": 200,
        "template": {
            "settings": {
                "index": {
                    "number_of_shards": 1,
                    # Single-node friendly; raise on a real cluster through the template.
                    "number_of_replicas": 0,
                    "refresh_interval": "1s",
                    "mapping": {"total_fields": {"limit": 2000}, "depth": {"limit": 20}},
                }
            },
            "mappings": {
                "dynamic": True,
                "date_detection": False,
                "numeric_detection": False,
                "dynamic_templates": [
                    {"labels_as_keywords": {"path_match": "labels.*", "mapping": _KEYWORD}},
                    {"strings_as_keywords": {"match_mapping_type": "string", "mapping": _KEYWORD}},
                ],
                "properties": ECS_PROPERTIES,
            },
        },
        "_meta": {"managed_by": "logflow"},
    }


def install_index_template(client: Any, prefix: str) -> None:
    client.indices.put_index_template(name=f"{prefix}-logflow", **index_template(prefix))
