"""Filebeat / Elastic Agent and Logstash: their events are ECS already (Logstash's in its ECS
compatibility mode; older Logstash writes ``host`` as a string and ``path`` for the file). The line is
in ``message``; ``@metadata``, ``@version`` and ``ecs.version`` describe the shipper, not the event."""

from __future__ import annotations

from typing import Any, Final

from common.parsing.context import Context
from common.parsing.envelopes.fields import NestedParser, dedot, set_kubernetes_orchestrator, unwrap_line
from common.parsing.formats import json_lines

_SHIPPER_ONLY: Final = ("@metadata", "@version", "ecs", "ecs.version", "message", "kubernetes", "path")


def unwrap(obj: dict[str, Any], ctx: Context, nested: NestedParser, agent_type: str) -> dict[str, Any]:
    line = obj.get("message")
    body = {key: value for key, value in obj.items() if key not in _SHIPPER_ONLY}
    host = body.get("host")
    if isinstance(host, str):  # Logstash without ECS compatibility
        body["host"] = {"name": host}
    declared = _declared_dataset(obj)
    outer = json_lines.ecs_fields(body, ctx)
    event = outer["event"]
    event.pop("dataset", None)  # the inner line's dataset, or the declared one (unwrap_line)
    event.pop("original", None)
    path = obj.get("path")
    if isinstance(path, str):  # Logstash's file input before ECS compatibility
        log = outer.setdefault("log", {})
        if isinstance(log, dict) and "file" not in log:
            log["file"] = {"path": path}
    kubernetes = obj.get("kubernetes")
    if isinstance(kubernetes, dict):
        outer["kubernetes"] = _kubernetes(kubernetes)
        set_kubernetes_orchestrator(outer)
    agent = outer.get("agent")
    if not isinstance(agent, dict):
        agent = outer["agent"] = {}
    metadata = obj.get("@metadata")
    if isinstance(metadata, dict):
        agent.setdefault("type", metadata.get("beat") or agent_type)
        if isinstance(metadata.get("version"), str):
            agent.setdefault("version", metadata["version"])
    agent.setdefault("type", agent_type)
    text = line if isinstance(line, str) else json_lines.to_text(line) if line is not None else ""
    return unwrap_line(outer, text, ctx, nested, declared)


def _declared_dataset(obj: dict[str, Any]) -> str | None:
    event = obj.get("event")
    if isinstance(event, dict) and isinstance(event.get("dataset"), str):
        return str(event["dataset"])
    if isinstance(obj.get("event.dataset"), str):
        return str(obj["event.dataset"])
    stream = obj.get("data_stream")
    if isinstance(stream, dict) and isinstance(stream.get("dataset"), str):
        return str(stream["dataset"])
    return None


def _kubernetes(source: dict[str, Any]) -> dict[str, Any]:
    """Filebeat's own kubernetes.* layout, kept; label and annotation keys dedotted (as Filebeat does by
    default) so that an index never sees ``app`` and ``app.kubernetes.io/name`` both."""
    out: dict[str, Any] = {}
    for key, value in source.items():
        if key in ("labels", "annotations", "namespace_labels", "namespace_annotations") and isinstance(
            value, dict
        ):
            out[key] = dedot(value)
        else:
            out[key] = value
    return out
