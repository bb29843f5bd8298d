"""Vector (legacy log namespace, the default): ``message``, ``timestamp``, ``host``, ``source_type``;
the ``file`` source adds ``file``; ``kubernetes_logs`` adds ``file``, ``stream`` and
``kubernetes.{pod_name,pod_namespace,pod_uid,pod_ip,pod_node_name,container_name,container_id,
container_image,pod_labels,pod_annotations,namespace_labels,node_labels,pod_owner}``."""

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

KUBERNETES: Final = {
    "pod_name": "kubernetes.pod.name",
    "pod_namespace": "kubernetes.namespace",
    "pod_uid": "kubernetes.pod.uid",
    "pod_ip": "kubernetes.pod.ip",
    "pod_node_name": "kubernetes.node.name",
    "container_name": "kubernetes.container.name",
    "container_id": "container.id",
    "container_image": "container.image.name",
    "pod_labels": "kubernetes.labels",
    "pod_annotations": "kubernetes.annotations",
    "namespace_labels": "kubernetes.namespace_labels",
    "node_labels": "kubernetes.node.labels",
}


def recognise(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("source_type"), str) and isinstance(obj.get("message"), str)


def unwrap(obj: dict[str, Any], ctx: Context, nested: NestedParser) -> dict[str, Any]:
    outer: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "message":
            continue
        if key == "timestamp":
            stamp = json_lines.stamp(value, ctx)
            if stamp is not None:
                outer["@timestamp"] = stamp
                continue
        if key == "host" and isinstance(value, str):
            put(outer, "host.name", value)
        elif key == "file" and isinstance(value, str):
            put(outer, "log.file.path", value)
        elif key == "kubernetes" and isinstance(value, dict):
            kube_rest: dict[str, Any] = {}
            map_object(value, KUBERNETES, outer, kube_rest)
            if kube_rest:
                rest["kubernetes"] = kube_rest
        else:
            rest[key] = value
    container = outer.get("container")
    if isinstance(container, dict) and isinstance(container.get("id"), str):
        runtime, sep, bare = container["id"].partition("://")  # "containerd://<id>" from the pod status
        if sep:
            container["id"] = bare
            container["runtime"] = runtime
    set_kubernetes_orchestrator(outer)
    put(outer, "agent.type", "vector")
    add_labels(outer, "", rest, ctx)
    return unwrap_line(outer, obj["message"], ctx, nested, None)
