"""The rule format: its keys, limits and the published JSON Schema.

A rule is a plain JSON object (see docs/rules.md). This module is the single definition of its
shape: the validator in ``common.rules.validate`` enforces exactly these names and limits, and
``RULE_JSON_SCHEMA`` is what the rules API publishes and what ``rule.schema.json`` holds (regenerate
it with ``python -m common.schema.rule > common/schema/rule.schema.json``).
"""

from __future__ import annotations

import json
from typing import Any

# Limits. They bound memory, compile time and the cost of evaluating one record.
MAX_RULES = 1000
MAX_CONDITIONS_PER_RULE = 32
MAX_ACTIONS_PER_RULE = 32
MAX_CONDITION_DEPTH = 8
# durable-rules holds a condition's and/or groups in a 32-slot sequence, two slots per group, and
# refuses a ruleset that fills it (error 113); common.rules.conditions.durable_groups counts them.
MAX_CONDITION_GROUPS = 15
MAX_PATTERN_LENGTH = 1024
MAX_STRING_VALUE_LENGTH = 4096
MAX_IN_VALUES = 256
MAX_GROUP_BY_FIELDS = 8
MAX_FIELD_PATH_LENGTH = 256
MAX_FIELD_PATH_SEGMENTS = 16
MAX_DESCRIPTION_LENGTH = 1024
MAX_TEMPLATE_LENGTH = 1024
MAX_SET_VALUE_BYTES = 4096
MIN_PRIORITY, MAX_PRIORITY = -1000, 1000
MAX_THRESHOLD_COUNT = 10_000  # the counter keeps one timestamp per match in the window
MAX_THRESHOLD_WINDOW_SECONDS = 7 * 24 * 3600
# RE2 program memory per compiled pattern; bounds what one large character class can cost.
REGEX_MAX_MEM_BYTES = 1 << 20

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}$"
DATASET_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,99}$"
FIELD_PATH_PATTERN = r"^[A-Za-z_@][A-Za-z0-9_@-]*(\.[A-Za-z_@][A-Za-z0-9_@-]*)*$"
WINDOW_PATTERN = r"^[1-9][0-9]*(s|m|h|d)$"

OPERATORS: tuple[str, ...] = (
    "eq",
    "ne",
    "in",
    "contains",
    "startswith",
    "matches",
    "exists",
    "gt",
    "gte",
    "lt",
    "lte",
)
NUMERIC_OPERATORS = frozenset({"gt", "gte", "lt", "lte"})
STRING_OPERATORS = frozenset({"contains", "startswith", "matches"})
COMBINATORS: tuple[str, ...] = ("all", "any", "not")
ACTIONS: tuple[str, ...] = ("set", "remove", "rename", "tag", "extract", "route", "mask", "drop", "alert")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
DEFAULT_MASK_REPLACEMENT = "[REDACTED]"

# The rule's shape, named once: the validator (``common.rules.validate``) checks exactly these keys
# and ``RULE_JSON_SCHEMA`` below is built from the same tables.
RULE_REQUIRED: tuple[str, ...] = ("id", "when", "then")
RULE_OPTIONAL: tuple[str, ...] = ("description", "enabled", "priority")
# action -> (required keys, optional keys), besides "action" itself.
ACTION_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "set": (("field", "value"), ()),
    "remove": (("field",), ()),
    "rename": (("field", "to"), ()),
    "tag": (("value",), ()),
    "extract": (("field", "pattern"), ("into",)),
    "route": (("dataset",), ()),
    "mask": (("field", "pattern"), ("replacement",)),
    "drop": ((), ()),
    "alert": (("severity", "message"), ("threshold",)),
}
THRESHOLD_REQUIRED: tuple[str, ...] = ("count", "window")
THRESHOLD_OPTIONAL: tuple[str, ...] = ("group_by",)
assert tuple(ACTION_KEYS) == ACTIONS


def _field_path() -> dict[str, Any]:
    return {"type": "string", "pattern": FIELD_PATH_PATTERN, "maxLength": MAX_FIELD_PATH_LENGTH}


def _scalar() -> dict[str, Any]:
    return {
        "oneOf": [
            {"type": "string", "maxLength": MAX_STRING_VALUE_LENGTH},
            {"type": "number"},
            {"type": "boolean"},
        ]
    }


def _action(name: str, props: dict[str, Any]) -> dict[str, Any]:
    required, optional = ACTION_KEYS[name]
    assert set(props) == {*required, *optional}, name
    return {
        "type": "object",
        "properties": {"action": {"const": name}, **props},
        "required": ["action", *required],
        "additionalProperties": False,
    }


_PATTERN = {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN_LENGTH}

RULE_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "logflow-rule.schema.json",
    "title": "logflow rule",
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": RULE_ID_PATTERN},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION_LENGTH},
        "enabled": {"type": "boolean", "default": True},
        "priority": {"type": "integer", "minimum": MIN_PRIORITY, "maximum": MAX_PRIORITY, "default": 0},
        "when": {"$ref": "#/$defs/condition"},
        "then": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_ACTIONS_PER_RULE,
            "items": {"$ref": "#/$defs/action"},
        },
    },
    "required": list(RULE_REQUIRED),
    "additionalProperties": False,
    "$defs": {
        "condition": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "all": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/$defs/condition"},
                        }
                    },
                    "required": ["all"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {
                        "any": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/$defs/condition"},
                        }
                    },
                    "required": ["any"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {"not": {"$ref": "#/$defs/condition"}},
                    "required": ["not"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {
                        "field": _field_path(),
                        "op": {"enum": list(OPERATORS)},
                        "value": {
                            "oneOf": [
                                _scalar(),
                                {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": MAX_IN_VALUES,
                                    "items": _scalar(),
                                },
                            ]
                        },
                    },
                    "required": ["field", "op"],
                    "additionalProperties": False,
                },
            ]
        },
        "action": {
            "oneOf": [
                _action("set", {"field": _field_path(), "value": {}}),
                _action("remove", {"field": _field_path()}),
                _action("rename", {"field": _field_path(), "to": _field_path()}),
                _action("tag", {"value": {"type": "string", "minLength": 1, "maxLength": 256}}),
                _action(
                    "extract",
                    {
                        "field": _field_path(),
                        "pattern": _PATTERN,
                        "into": {"type": "object", "additionalProperties": _field_path()},
                    },
                ),
                _action("route", {"dataset": {"type": "string", "pattern": DATASET_PATTERN}}),
                _action(
                    "mask",
                    {
                        "field": _field_path(),
                        "pattern": _PATTERN,
                        "replacement": {
                            "type": "string",
                            "maxLength": 256,
                            "default": DEFAULT_MASK_REPLACEMENT,
                        },
                    },
                ),
                _action("drop", {}),
                _action(
                    "alert",
                    {
                        "severity": {"enum": list(SEVERITIES)},
                        "message": {"type": "string", "minLength": 1, "maxLength": MAX_TEMPLATE_LENGTH},
                        "threshold": {
                            "type": "object",
                            "properties": {
                                "count": {"type": "integer", "minimum": 1, "maximum": MAX_THRESHOLD_COUNT},
                                "window": {
                                    "oneOf": [
                                        {"type": "string", "pattern": WINDOW_PATTERN},
                                        {
                                            "type": "integer",
                                            "minimum": 1,
                                            "maximum": MAX_THRESHOLD_WINDOW_SECONDS,
                                        },
                                    ]
                                },
                                "group_by": {
                                    "type": "array",
                                    "maxItems": MAX_GROUP_BY_FIELDS,
                                    "items": _field_path(),
                                },
                            },
                            "required": list(THRESHOLD_REQUIRED),
                            "additionalProperties": False,
                        },
                    },
                ),
            ]
        },
    },
}


def schema_json() -> str:
    return json.dumps(RULE_JSON_SCHEMA, indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(schema_json(), end="")
