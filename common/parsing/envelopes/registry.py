"""Which shipper wrapped a decoded JSON object, and its record. Called by the JSON format for every
top-level object, so each check is a dict lookup or two: a plain JSON log line pays nothing else."""

from __future__ import annotations

from typing import Any, Final

from common.parsing.context import Context
from common.parsing.envelopes import ecs_shipper, fluent, rsyslog, vector
from common.parsing.envelopes.fields import NestedParser

# Elastic Agent writes agent.type "filebeat" too; these also ship ECS with agent.* and a message line.
_BEATS: Final = frozenset(("filebeat", "elastic-agent", "winlogbeat", "journalbeat"))


def _marked(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` has a key at least one envelope has and plain JSON log lines rarely do (Fluent
    Bit's float @timestamp, which ECS lines have as text, aside). Separate ``in`` tests: compiled, they
    cost less than one set intersection, and most JSON lines fail all of them."""
    return (
        "@metadata" in obj
        or "source_type" in obj
        or "@version" in obj
        or "kubernetes" in obj
        or "log" in obj
        or "date" in obj
        or "agent" in obj
        or ("msg" in obj and rsyslog.marked(obj))
    )


def shipper(obj: dict[str, Any]) -> str | None:
    """The name of the shipper whose envelope ``obj`` is, or None."""
    if not _marked(obj):
        if type(obj.get("@timestamp")) is float and fluent.recognise(obj):
            return "fluent"
        return None
    if len(obj) <= 3 and "stream" in obj:  # Docker's json-file {"log","stream","time"}: no shipper's
        return None
    metadata = obj.get("@metadata")
    if isinstance(metadata, dict) and "beat" in metadata and "message" in obj:
        return "filebeat"
    if "source_type" in obj and vector.recognise(obj):
        return "vector"
    if "@version" in obj and "@timestamp" in obj and "message" in obj:
        return "logstash"
    maybe_fluent = "log" in obj or "kubernetes" in obj or "date" in obj or "@timestamp" in obj
    if maybe_fluent and fluent.recognise(obj):
        return "fluent"
    if "msg" in obj and rsyslog.recognise(obj):
        return "rsyslog"
    agent = obj.get("agent")
    if isinstance(agent, dict) and agent.get("type") in _BEATS and isinstance(obj.get("message"), str):
        return "filebeat"
    return None


def unwrap(obj: dict[str, Any], ctx: Context, nested: NestedParser) -> dict[str, Any] | None:
    """The record for a shipper's envelope, its line parsed by ``nested``; None when ``obj`` is none."""
    if not _marked(obj) and type(obj.get("@timestamp")) is not float:
        return None  # shipper()'s first test, without the call: most JSON lines end here
    name = shipper(obj)
    if name is None:
        return None
    if name == "filebeat":
        return ecs_shipper.unwrap(obj, ctx, nested, "filebeat")
    if name == "logstash":
        return ecs_shipper.unwrap(obj, ctx, nested, "logstash")
    if name == "vector":
        return vector.unwrap(obj, ctx, nested)
    if name == "fluent":
        return fluent.unwrap(obj, ctx, nested)
    return rsyslog.unwrap(obj, ctx, nested)
