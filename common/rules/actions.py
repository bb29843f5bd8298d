"""Rule actions, compiled once into small functions that change a record in place.

Actions run in Python after durable-rules has decided which rules match: they are data
transformations (regex extraction, masking, renames), which the engine has no operations for.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.rules.regex import ActionPattern, expand_grok
from common.rules.validate import window_seconds
from common.schema.ecs import EcsRecord, add_tag, get_field, has_field, remove_field, set_field
from common.schema.rule import DEFAULT_MASK_REPLACEMENT

Apply = Callable[[EcsRecord], None]


@dataclass(frozen=True)
class AlertSpec:
    action: dict[str, Any]
    count: int | None  # None: alert on every match
    window_seconds: float | None
    group_by: tuple[str, ...]


@dataclass(frozen=True)
class CompiledAction:
    name: str
    apply: Apply | None  # None for drop and alert, which the engine handles itself
    writes: frozenset[str]
    alert: AlertSpec | None = None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _set(field: str, value: Any) -> Apply:
    if isinstance(value, dict | list):

        def apply(record: EcsRecord) -> None:
            set_field(record, field, copy.deepcopy(value))  # records must not share mutable values

    else:

        def apply(record: EcsRecord) -> None:
            set_field(record, field, value)

    return apply


def _remove(field: str) -> Apply:
    def apply(record: EcsRecord) -> None:
        remove_field(record, field)

    return apply


def _rename(field: str, to: str) -> Apply:
    def apply(record: EcsRecord) -> None:
        if has_field(record, field):
            set_field(record, to, remove_field(record, field))

    return apply


def _tag(value: str) -> Apply:
    def apply(record: EcsRecord) -> None:
        tags = record.get("tags")
        if not isinstance(tags, list):
            # A source that sent a single tag (or a stray value) keeps it, as the first element.
            record["tags"] = [] if tags is None else [tags]
        add_tag(record, value)

    return apply


def _extract(field: str, pattern: str, into: dict[str, str]) -> Apply:
    expanded = expand_grok(pattern)
    compiled = ActionPattern(expanded.pattern)
    targets = list({**expanded.fields, **into}.items())
    numbers = [compiled.groupindex[group] for group, _ in targets]
    paths = [path for _, path in targets]

    def apply(record: EcsRecord) -> None:
        text = _text(get_field(record, field))
        if text is None:
            return
        values = compiled.groups(text, numbers)
        if values is None:
            return
        for path, value in zip(paths, values, strict=True):
            if value is not None:
                set_field(record, path, value)

    return apply


def _route(dataset: str) -> Apply:
    def apply(record: EcsRecord) -> None:
        set_field(record, "event.dataset", dataset)

    return apply


def _mask(field: str, pattern: str, replacement: str) -> Apply:
    compiled = ActionPattern(expand_grok(pattern).pattern)

    def apply(record: EcsRecord) -> None:
        value = get_field(record, field)
        if isinstance(value, str):
            # A literal replacement: "\1" in it is not a back-reference.
            masked = compiled.replace(value, replacement)
            if masked != value:
                set_field(record, field, masked)

    return apply


def compile_action(act: dict[str, Any]) -> CompiledAction:
    name = act["action"]
    if name == "set":
        return CompiledAction(name, _set(act["field"], act["value"]), frozenset({act["field"]}))
    if name == "remove":
        return CompiledAction(name, _remove(act["field"]), frozenset({act["field"]}))
    if name == "rename":
        return CompiledAction(name, _rename(act["field"], act["to"]), frozenset({act["field"], act["to"]}))
    if name == "tag":
        return CompiledAction(name, _tag(act["value"]), frozenset({"tags"}))
    if name == "extract":
        into = dict(act.get("into") or {})
        targets = set(into.values()) | set(expand_grok(act["pattern"]).fields.values())
        return CompiledAction(name, _extract(act["field"], act["pattern"], into), frozenset(targets))
    if name == "route":
        return CompiledAction(name, _route(act["dataset"]), frozenset({"event.dataset"}))
    if name == "mask":
        replacement = act.get("replacement", DEFAULT_MASK_REPLACEMENT)
        return CompiledAction(
            name, _mask(act["field"], act["pattern"], replacement), frozenset({act["field"]})
        )
    if name == "drop":
        return CompiledAction(name, None, frozenset())
    if name == "alert":
        threshold = act.get("threshold")
        spec = AlertSpec(
            action=dict(act),
            count=threshold["count"] if threshold else None,
            window_seconds=float(window_seconds(threshold["window"])) if threshold else None,
            group_by=tuple(threshold.get("group_by", ())) if threshold else (),
        )
        return CompiledAction(name, None, frozenset(), alert=spec)
    raise ValueError(f"unknown action {name!r}")  # unreachable for validated rules
