"""Fluent Bit and Fluentd: the line is in ``log`` (tail input) or ``message``; the record time is
under the Kafka output's ``timestamp_key`` (default ``@timestamp``, a float by default, ISO 8601 with
``timestamp_format iso8601``) or ``date``; the ``kubernetes`` filter (Fluentd: the
kubernetes_metadata filter) adds ``kubernetes.{pod_name,namespace_name,pod_id,host,container_name,
docker_id,container_image,container_hash,labels,annotations}``. The envelope does not say which of
the two shipped it, so ``agent.type`` is ``fluent``."""

from __future__ import annotations

from typing import Any, Final

from common.parsing.context import Context
from common.parsing.envelopes.fields import (
    NestedParser,
    add_labels,
    map_object,
    put,
    set_kubernetes_orchestrator,
    unwrap_line,
)
from common.parsing.formats import json_lines

_TIME_KEYS: Final = ("@timestamp", "date", "time", "timestamp")

KUBERNETES: Final = {
    "pod_name": "kubernetes.pod.name",
    "namespace_name": "kubernetes.namespace",
    "namespace_id": "kubernetes.namespace_uid",
    "pod_id": "kubernetes.pod.uid",
    "pod_ip": "kubernetes.pod.ip",
    "host": "kubernetes.node.name",
    "container_name": "kubernetes.container.name",
    "docker_id": "container.id",
    "container_id": "container.id",
    "container_image": "container.image.name",
    "labels": "kubernetes.labels",
    "annotations": "kubernetes.annotations",
    "namespace_labels": "kubernetes.namespace_labels",
}


def recognise(obj: dict[str, Any]) -> bool:
    line = obj.get("log")
    if not isinstance(line, str):
        line = obj.get("message")
        if not isinstance(line, str):
            return False
    if isinstance(obj.get("kubernetes"), dict) and "pod_name" in obj["kubernetes"]:
        return True
    # Fluent Bit's default time: a float under @timestamp (the Kafka output) or date.
    stamp = obj.get("@timestamp", obj.get("date"))
    return isinstance(stamp, float) or ("date" in obj and "log" in obj)


def unwrap(obj: dict[str, Any], ctx: Context, nested: NestedParser) -> dict[str, Any]:
    line_key = "log" if isinstance(obj.get("log"), str) else "message"
    outer: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in obj.items():
        if key == line_key:
            continue
        if key in _TIME_KEYS:
            stamp = json_lines.stamp(value, ctx)
            if stamp is not None:  # the first one found; a second (the runtime's "time") says the same
                outer.setdefault("@timestamp", stamp)
                continue
        if key == "kubernetes" and isinstance(value, dict):
            kube_rest: dict[str, Any] = {}
            map_object(value, KUBERNETES, outer, kube_rest)
            if kube_rest:
                rest["kubernetes"] = kube_rest
        elif key == "docker" and isinstance(value, dict) and isinstance(value.get("container_id"), str):
            put(outer, "container.id", value["container_id"])
        elif key in ("hostname", "host") and isinstance(value, str):
            put(outer, "host.name", value)
        else:
            rest[key] = value
    set_kubernetes_orchestrator(outer)
    put(outer, "agent.type", "fluent")
    add_labels(outer, "", rest, ctx)
    return unwrap_line(outer, obj[line_key], ctx, nested, None)
