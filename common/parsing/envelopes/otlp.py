"""OTLP logs from Kafka, as the OpenTelemetry Collector's Kafka exporter (and Grafana Alloy's
``otelcol.exporter.kafka``, a wrapper of it) writes them: one ``ExportLogsServiceRequest`` per
message, ``otlp_proto`` (protobuf, the default) or ``otlp_json``. One message holds many log records;
each becomes a record of its own (``fan_out``), in the order of the request.

The mapping onto ECS follows Elastic's ECS / OTel semantic conventions alignment: time_unix_nano ->
@timestamp (observed_time_unix_nano when it is 0), observed time -> event.created, severity text or
number -> log.level, severity number -> event.severity, trace/span id (hex) -> trace.id / span.id,
resource, scope and record attributes through ``ATTRIBUTES`` (record over scope over resource),
every other attribute to labels. A string body is parsed as a log line of its own, like an envelope's.
"""

from __future__ import annotations

import base64
from typing import Any, Final

from common.parsing import jsoncodec
from common.parsing.context import Context
from common.parsing.envelopes.fields import (
    NestedParser,
    add_labels,
    put,
    set_kubernetes_orchestrator,
    unwrap_line,
)
from common.parsing.levels import normalize_level
from common.parsing.timestamps import from_epoch

DATASET: Final = "otel"
AGENT_TYPE: Final = "opentelemetry"
ENCODINGS: Final = ("auto", "json", "proto", "off")

# OTel semantic convention attribute -> ECS field.
ATTRIBUTES: Final = {
    "service.name": "service.name",
    "service.version": "service.version",
    "service.instance.id": "service.node.name",
    "deployment.environment": "service.environment",
    "deployment.environment.name": "service.environment",
    "host.name": "host.name",
    "host.id": "host.id",
    "host.arch": "host.architecture",
    "host.ip": "host.ip",
    "os.type": "host.os.type",
    "os.name": "host.os.name",
    "os.version": "host.os.version",
    "os.description": "host.os.full",
    "k8s.pod.name": "kubernetes.pod.name",
    "k8s.pod.uid": "kubernetes.pod.uid",
    "k8s.pod.ip": "kubernetes.pod.ip",
    "k8s.namespace.name": "kubernetes.namespace",
    "k8s.node.name": "kubernetes.node.name",
    "k8s.container.name": "kubernetes.container.name",
    "k8s.deployment.name": "kubernetes.deployment.name",
    "k8s.replicaset.name": "kubernetes.replicaset.name",
    "k8s.statefulset.name": "kubernetes.statefulset.name",
    "k8s.daemonset.name": "kubernetes.daemonset.name",
    "k8s.job.name": "kubernetes.job.name",
    "k8s.cronjob.name": "kubernetes.cronjob.name",
    "k8s.cluster.name": "orchestrator.cluster.name",
    "container.id": "container.id",
    "container.name": "container.name",
    "container.image.name": "container.image.name",
    "container.image.tag": "container.image.tag",
    "container.image.tags": "container.image.tag",
    "container.runtime": "container.runtime",
    "cloud.provider": "cloud.provider",
    "cloud.region": "cloud.region",
    "cloud.availability_zone": "cloud.availability_zone",
    "cloud.account.id": "cloud.account.id",
    "cloud.platform": "cloud.service.name",
    "process.pid": "process.pid",
    "process.executable.name": "process.name",
    "process.executable.path": "process.executable",
    "process.command_line": "process.command_line",
    "thread.id": "process.thread.id",
    "thread.name": "process.thread.name",
    "log.file.path": "log.file.path",
    "exception.type": "error.type",
    "exception.message": "error.message",
    "exception.stacktrace": "error.stack_trace",
    "code.function": "log.origin.function",
    "code.function.name": "log.origin.function",
    "code.filepath": "log.origin.file.name",
    "code.file.path": "log.origin.file.name",
    "code.lineno": "log.origin.file.line",
    "code.line.number": "log.origin.file.line",
}
_LABEL_PREFIXES: Final = (
    ("k8s.pod.label.", "kubernetes.labels"),
    ("k8s.pod.labels.", "kubernetes.labels"),
    ("k8s.pod.annotation.", "kubernetes.annotations"),
    ("k8s.pod.annotations.", "kubernetes.annotations"),
)
_DATASET_KEYS: Final = ("event.dataset", "data_stream.dataset")


def candidate(raw: bytes | str, encoding: str) -> bool:
    """Whether ``raw`` may be an OTLP request under the configured ``encoding`` (cheap: plain lines do
    not start with "{" and the name, nor with protobuf's field-1 length-delimited tag 0x0a)."""
    if encoding == "auto":
        if type(raw) is bytes:
            if not raw:
                return False
            first = raw[0]
            return first == 0x0A or (first == 0x7B and b'"resourceLogs"' in raw[:64])
        if type(raw) is str:
            return raw[:1] == "\n" or (raw[:1] == "{" and '"resourceLogs"' in raw[:64])
        return False
    return encoding != "off"


def from_json(text: str, ctx: Context, nested: NestedParser) -> list[tuple[dict[str, Any], str]] | None:
    """``(partial record, event.original)`` per log record of an ``otlp_json`` request, or None when
    ``text`` is not one."""
    try:
        obj = jsoncodec.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("resourceLogs"), list):
        return None
    return fan_out(obj, ctx, nested)


def from_proto(data: bytes, ctx: Context, nested: NestedParser) -> list[tuple[dict[str, Any], str]] | None:
    """As :func:`from_json` for ``otlp_proto`` bytes, decoded with the official generated classes
    (imported here, on the first protobuf message, so plain lines never load protobuf)."""
    from google.protobuf.json_format import MessageToDict
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    try:
        request = ExportLogsServiceRequest.FromString(data)
    except (DecodeError, ValueError, RecursionError):
        return None
    # Random bytes that happen to decode have no resource_logs or records with nothing in them.
    if not request.resource_logs or not any(
        scope.log_records for resource in request.resource_logs for scope in resource.scope_logs
    ):
        return None
    obj = MessageToDict(request, use_integers_for_enums=True)
    for resource in obj.get("resourceLogs", ()):
        for scope in resource.get("scopeLogs", ()):
            for record in scope.get("logRecords", ()):
                for key in ("traceId", "spanId"):  # protobuf's JSON mapping writes bytes as base64
                    if key in record:
                        record[key] = base64.b64decode(record[key]).hex()
    return fan_out(obj, ctx, nested)


def fan_out(request: dict[str, Any], ctx: Context, nested: NestedParser) -> list[tuple[dict[str, Any], str]]:
    out: list[tuple[dict[str, Any], str]] = []
    for resource_logs in request["resourceLogs"]:
        if not isinstance(resource_logs, dict):
            continue
        resource = resource_logs.get("resource")
        resource_attrs = attributes(resource.get("attributes") if isinstance(resource, dict) else None)
        scope_list = resource_logs.get("scopeLogs") or resource_logs.get("instrumentationLibraryLogs") or ()
        for scope_logs in scope_list:
            if not isinstance(scope_logs, dict):
                continue
            scope = scope_logs.get("scope") or scope_logs.get("instrumentationLibrary") or {}
            if not isinstance(scope, dict):
                scope = {}
            # What the resource and scope say is the same for each of their records: mapped once.
            base: dict[str, Any] = {}
            base_rest: dict[str, Any] = {}
            declared = _map_attributes(resource_attrs, base, base_rest)
            declared = _map_attributes(attributes(scope.get("attributes")), base, base_rest) or declared
            for log_record in scope_logs.get("logRecords") or ():
                if isinstance(log_record, dict):
                    rec = _record(log_record, _copy_tree(base), dict(base_rest), declared, scope, ctx, nested)
                    out.append((rec, jsoncodec.dumps_compact(log_record)))
    return out


def _copy_tree(tree: dict[str, Any]) -> dict[str, Any]:
    """``tree`` with every object in it copied (each record's fields are its own to merge into)."""
    return {key: _copy_tree(value) if type(value) is dict else value for key, value in tree.items()}


def any_value(value: Any) -> Any:
    """An OTLP AnyValue (JSON encoding) as a plain value: str, bool, int, float, list, dict or None."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        array = value["arrayValue"]
        values = array.get("values") if isinstance(array, dict) else None
        return [any_value(v) for v in values or ()]
    if "kvlistValue" in value:
        kvlist = value["kvlistValue"]
        return attributes(kvlist.get("values") if isinstance(kvlist, dict) else None)
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def attributes(items: Any) -> dict[str, Any]:
    """A list of OTLP KeyValue as a dict."""
    out: dict[str, Any] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                out[item["key"]] = any_value(item.get("value"))
    return out


def _nanos(value: Any) -> int:
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _level(number: int) -> str | None:
    """The log level for an OTel SeverityNumber (1-4 trace ... 21-24 fatal)."""
    if not 1 <= number <= 24:
        return None
    return ("trace", "debug", "info", "warn", "error", "fatal")[(number - 1) // 4]


def _map_attributes(attrs: dict[str, Any], rec: dict[str, Any], rest: dict[str, Any]) -> str | None:
    declared: str | None = None
    for key, value in attrs.items():
        if value is None:
            continue
        path = ATTRIBUTES.get(key)
        if path is not None:
            put(rec, path, value)
            continue
        if key in _DATASET_KEYS and isinstance(value, str):
            declared = value
            continue
        for prefix, target in _LABEL_PREFIXES:
            if key.startswith(prefix):
                put(rec, f"{target}.{key[len(prefix) :].replace('.', '_')}", value)
                break
        else:
            rest[key] = value
    return declared


def _record(
    log_record: dict[str, Any],
    outer: dict[str, Any],
    rest: dict[str, Any],
    declared: str | None,
    scope: dict[str, Any],
    ctx: Context,
    nested: NestedParser,
) -> dict[str, Any]:
    """The record of ``log_record``; ``outer``, ``rest`` and ``declared`` hold what its resource and
    scope attributes mapped to (record attributes win)."""
    declared = _map_attributes(attributes(log_record.get("attributes")), outer, rest) or declared
    if isinstance(scope.get("name"), str) and scope["name"]:
        # Log bridges (log4j, logback, Python logging...) name the scope after the logger.
        put(outer, "log.logger", scope["name"])
    if isinstance(scope.get("version"), str) and scope["version"]:
        rest["otel.scope.version"] = scope["version"]
    time = _nanos(log_record.get("timeUnixNano"))
    observed = _nanos(log_record.get("observedTimeUnixNano"))
    if time or observed:
        outer["@timestamp"] = from_epoch(time or observed)
    if observed:
        put(outer, "event.created", from_epoch(observed))
    number = _nanos(log_record.get("severityNumber"))
    text = log_record.get("severityText")
    level = normalize_level(text) if isinstance(text, str) and text else None
    if level is None:
        level = _level(number)
    if level is not None:
        put(outer, "log.level", level)
    if number:
        put(outer, "event.severity", number)
    for key, path in (("traceId", "trace.id"), ("spanId", "span.id")):
        ident = log_record.get(key)
        if isinstance(ident, str) and ident and ident.strip("0"):
            put(outer, path, ident.lower())
    flags = _nanos(log_record.get("flags"))
    if flags:
        rest["otel.trace_flags"] = flags
    if isinstance(log_record.get("eventName"), str) and log_record["eventName"]:
        put(outer, "event.action", log_record["eventName"])
    set_kubernetes_orchestrator(outer)
    put(outer, "agent.type", AGENT_TYPE)
    add_labels(outer, "", rest, ctx)
    body = any_value(log_record.get("body"))
    if body is None:
        line = ""
    elif isinstance(body, str):
        line = body
    else:  # a map (structured event) is read as a JSON line; a list or scalar as its JSON text
        line = jsoncodec.dumps(body)
    return unwrap_line(outer, line, ctx, nested, declared or DATASET)
