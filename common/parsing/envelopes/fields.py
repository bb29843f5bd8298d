"""What the envelope modules share: folding the parsed inner line into the fields the shipper supplied
(the line's own fields win), dotted ECS paths, and Kubernetes metadata in Filebeat's layout."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.formats import json_lines, stacktrace

NestedParser = Callable[[str, Context], "dict[str, Any] | None"]

# As api.TAG_PARSE_FAILURE (not imported: api imports detect, which imports the envelopes).
TAG_PARSE_FAILURE: Final = "_parse_failure"


# dotted path -> (its parents, its last name); the paths are the modules' constants and attribute names.
_SPLIT: dict[str, tuple[list[str], str]] = {}


def _split(path: str) -> tuple[list[str], str]:
    parts = path.split(".")
    last = parts.pop()
    if len(_SPLIT) >= 4096:
        _SPLIT.clear()
    _SPLIT[path] = (parts, last)
    return parts, last


def put(rec: dict[str, Any], path: str, value: Any) -> None:
    """Set the dotted ECS ``path`` in ``rec`` (creating the objects on the way)."""
    split = _SPLIT.get(path)
    parents, last = split if split is not None else _split(path)
    node = rec
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[last] = value


def dedot(mapping: Mapping[str, Any]) -> dict[str, str]:
    """Kubernetes labels or annotations as Filebeat indexes them (``labels.dedot``): dots in keys become
    ``_`` so that ``app`` and ``app.kubernetes.io/name`` cannot clash as object and keyword."""
    return {
        str(k).replace(".", "_"): v if isinstance(v, str) else json_lines.to_text(v)
        for k, v in mapping.items()
    }


def map_object(
    source: Mapping[str, Any], table: Mapping[str, str], rec: dict[str, Any], rest: dict[str, Any]
) -> None:
    """Each key of ``source`` named in ``table`` goes to that ECS path (label and annotation maps are
    dedotted); every other key goes to ``rest``. Empty values are dropped."""
    for key, value in source.items():
        path = table.get(key)
        if path is None:
            rest[key] = value
        elif value is None or value == "":
            continue
        elif path.endswith("labels") or path.endswith("annotations"):
            if isinstance(value, dict):
                put(rec, path, dedot(value))
            else:
                rest[key] = value
        else:
            put(rec, path, value)


def add_labels(rec: dict[str, Any], prefix: str, rest: dict[str, Any], ctx: Context) -> None:
    """The envelope's keys that have no ECS field, flattened into ``labels`` (``prefix`` + key)."""
    if not rest:
        return
    tags: list[str] = []
    flat = json_lines.flat_labels(rest, ctx, tags)
    labels = rec.setdefault("labels", {})
    for key, value in flat.items():
        labels[prefix + key] = value
    if tags:
        rec.setdefault("tags", []).extend(tags)


def set_kubernetes_orchestrator(rec: dict[str, Any]) -> None:
    if isinstance(rec.get("kubernetes"), dict):
        orchestrator = rec.setdefault("orchestrator", {})
        if isinstance(orchestrator, dict):
            orchestrator.setdefault("type", "kubernetes")


def unwrap_line(
    outer: dict[str, Any], line: str, ctx: Context, nested: NestedParser, dataset: str | None
) -> dict[str, Any]:
    """Parse ``line`` as a line of its own (multi-line: its first line, the rest kept in the message)
    and fold it into ``outer``, the fields mapped from the envelope: the line's fields win, its tags and
    labels are added. A line no format knows keeps ``dataset`` (the shipper's own, e.g. Filebeat's
    module) or, when there is none, gets ``unknown`` and the parse-failure tag, as it would bare."""
    if line[-1:] == "\n":
        line = line[:-1]
    if line[-1:] == "\r":
        line = line[:-1]
    head, newline, rest = line.partition("\n")
    inner = nested(head, ctx) if head else None
    if inner is None:
        inner = {"message": head, "event": {"dataset": dataset or "unknown"}}
        if dataset is None and line:
            inner["tags"] = [TAG_PARSE_FAILURE]
    if newline:
        message = inner.get("message") or ""
        message = f"{message}\n{rest}" if message else rest
        inner["message"] = message
        error = stacktrace.extract(message)
        if error is not None:
            existing = inner.get("error")
            if isinstance(existing, dict):
                error.update(existing)
            inner["error"] = error
    return merge(outer, inner)


def merge(outer: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    """``inner``'s fields over ``outer``'s: objects merge key by key, tags add up, a ``None`` stamp (a date
    the inner line got wrong) does not hide the envelope's."""
    for key, value in inner.items():
        if key == "@timestamp":
            if value is not None or outer.get(key) is None:
                outer[key] = _with_envelope_year(value, outer.get(key))
        elif key == "tags":
            outer.setdefault("tags", []).extend(value)
        elif isinstance(value, dict) and isinstance(outer.get(key), dict):
            _deep_update(outer[key], value)
        else:
            outer[key] = value
    return outer


def _with_envelope_year(inner: Any, outer: Any) -> Any:
    """A year-less line (syslog, klog) gets its year from the clock; when the shipper's own stamp is the
    same month, day, hour and minute in another year, the shipper's year is the right one."""
    if (
        isinstance(inner, str)
        and isinstance(outer, str)
        and len(inner) > 16
        and len(outer) > 16
        and inner[:4] != outer[:4]
        and inner[4:16] == outer[4:16]
    ):
        return outer[:4] + inner[4:]
    return inner


def _deep_update(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        existing = target.get(key)
        if isinstance(value, dict) and isinstance(existing, dict):
            _deep_update(existing, value)
        else:
            target[key] = value
