"""JSON lines: ECS JSON (ecs-logging), zap/etcd, pino/bunyan, Docker json-file and any other object.

* ECS input (has ``@timestamp``, ``ecs.version`` or ``ecs``): its ECS fields stay where they are
  (dotted keys such as ``"log.level"`` are expanded into objects); non-ECS keys go to ``labels``.
* Other JSON: well-known keys (``ts``/``time``, ``level``, ``msg``, ``logger``, ``caller``,
  ``hostname``, ``pid``, ``err``...) fill their ECS fields; every other key is flattened into
  ``labels`` (nested keys joined with ``_``, values as strings, lists as JSON text).
* Docker json-file ``{"log","stream","time"}``: the ``log`` text is parsed again as a line of any
  format; its fields win and ``labels.envelope`` is ``docker``.

Objects nested deeper than ``max_json_depth`` are kept as JSON text and tagged ``_json_depth_limited``;
more than ``max_labels`` extra keys are dropped from ``labels`` (``_labels_truncated``) — the whole
input is still in ``event.original``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from common.parsing import jsoncodec
from common.parsing.context import Context
from common.parsing.format import PAYLOAD, Format, Line
from common.parsing.labels import label_key
from common.parsing.levels import normalize_level
from common.parsing.timestamps import from_epoch

TAG_DEPTH: Final = "_json_depth_limited"
TAG_LABELS: Final = "_labels_truncated"
TAG_TOO_DEEP: Final = "_json_too_deep"

NestedParser = Callable[[str, Context], "dict[str, Any] | None"]
# A shipper's envelope recogniser (common.parsing.envelopes.registry.unwrap): the record for a decoded
# object it recognises, else None.
EnvelopeHook = Callable[[dict[str, Any], Context, NestedParser], "dict[str, Any] | None"]

# Top-level ECS field sets: input keys under these names are ECS fields, kept in place in ECS mode.
ECS_ROOTS: Final = frozenset(
    (
        "@timestamp", "message", "tags", "labels", "agent", "client", "cloud", "container", "data_stream",
        "destination", "device", "dll", "dns", "ecs", "email", "error", "event", "faas", "file", "group",
        "host", "http", "log", "network", "observer", "orchestrator", "organization", "package", "process",
        "registry", "related", "rule", "server", "service", "source", "span", "threat", "tls", "trace",
        "transaction", "url", "user", "user_agent", "vulnerability",
    )
)  # fmt: skip

_TIME_KEYS: Final = ("@timestamp", "timestamp", "time", "ts", "t", "date", "datetime", "eventTime", "@t")
_LEVEL_KEYS: Final = ("level", "lvl", "severity", "levelname", "loglevel", "log_level", "log.level", "@l")
_MESSAGE_KEYS: Final = ("message", "msg", "text", "@m", "log")
_LOGGER_KEYS: Final = ("logger", "logger_name", "loggerName", "name")
_HOST_KEYS: Final = ("hostname", "host")
_ERROR_KEYS: Final = ("error", "err", "exception", "exc_info")
_STACK_KEYS: Final = ("stacktrace", "stack_trace", "stack")
_THREAD_KEYS: Final = ("thread", "thread_name", "threadName")

# key -> what it means, so each key of a plain JSON object costs one dict lookup.
_ROLES: dict[str, str] = {}
for _role, _keys in (
    ("time", _TIME_KEYS), ("level", _LEVEL_KEYS), ("message", _MESSAGE_KEYS), ("logger", _LOGGER_KEYS),
    ("caller", ("caller",)), ("host", _HOST_KEYS), ("pid", ("pid",)), ("thread", _THREAD_KEYS),
    ("error", _ERROR_KEYS), ("stack", _STACK_KEYS),
):  # fmt: skip
    for _key in _keys:
        _ROLES.setdefault(_key, _role)
# MongoDB (4.4+) writes {"t":{"$date":...},"s":"I","c":"NETWORK","id":..,"ctx":"conn1","msg":..,"attr":{..}}:
# one-letter keys that mean this only when "t" is such a date.
_MONGO_ROLES: Final = {**_ROLES, "s": "level", "c": "logger", "ctx": "thread"}
# Its debug levels are D1 (least) to D5 (most verbose).
_MONGO_DEBUG: Final = frozenset(("D1", "D2", "D3", "D4", "D5"))


# key -> label key; JSON keys repeat from line to line.
_LABEL_KEYS: dict[str, str] = {}


def _label_key(key: str) -> str:
    label = label_key(key)
    if len(_LABEL_KEYS) >= 4096:
        _LABEL_KEYS.clear()
    _LABEL_KEYS[key] = label
    return label


class _Labels:
    """Flattens values into string labels within the depth and count limits."""

    __slots__ = ("ctx", "labels", "tags")

    def __init__(self, ctx: Context, tags: list[str]) -> None:
        self.ctx = ctx
        self.labels: dict[str, str] = {}
        self.tags = tags

    def add(self, key: str, value: Any, depth: int = 1) -> None:
        if isinstance(value, dict):
            if depth >= self.ctx.max_json_depth:
                self._put(key, jsoncodec.dumps(value))
                if TAG_DEPTH not in self.tags:
                    self.tags.append(TAG_DEPTH)
                return
            for sub_key, sub_value in value.items():
                self.add(f"{key}_{label_key(str(sub_key))}", sub_value, depth + 1)
            if not value:
                self._put(key, "{}")
            return
        self._put(key, _to_text(value))

    def _put(self, key: str, text: str) -> None:
        if len(self.labels) >= self.ctx.max_labels:
            if TAG_LABELS not in self.tags:
                self.tags.append(TAG_LABELS)
            return
        self.labels[key] = text


def flat_labels(obj: dict[str, Any], ctx: Context, tags: list[str]) -> dict[str, str]:
    """An object's keys as string labels, flattened within the depth and count limits (``tags``
    gets the tag that says so when a limit cut something)."""
    extra = _Labels(ctx, tags)
    for key, value in obj.items():
        extra.add(label_key(str(key)), value)
    return extra.labels


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    return jsoncodec.dumps(value)


def _stamp(value: Any, ctx: Context) -> str | None:
    if isinstance(value, str):
        stamp = ctx.iso_text_stamp(value)
        if stamp is None and value.replace(".", "", 1).isdecimal():
            stamp = from_epoch(value)
        return stamp
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(value)
    if type(value) is dict and len(value) == 1:  # MongoDB Extended JSON: {"$date": ISO text or epoch ms}
        date = value.get("$date")
        if type(date) is dict and len(date) == 1:
            date = date.get("$numberLong")
        if date is not None and type(date) is not dict:
            return _stamp(date, ctx)
    return None


def _fits(value: dict[str, Any], depth: int, limit: int) -> bool:
    """Whether no object in ``value`` (itself at ``depth``) is as deep as ``limit``: then it is kept as
    it is, not copied (it is the decoded line's own, used nowhere else)."""
    if depth >= limit:
        return False
    return all(not isinstance(item, dict) or _fits(item, depth + 1, limit) for item in value.values())


def _depth_limited(value: Any, depth: int, ctx: Context, tags: list[str]) -> Any:
    if isinstance(value, dict):
        if depth >= ctx.max_json_depth:
            if TAG_DEPTH not in tags:
                tags.append(TAG_DEPTH)
            return jsoncodec.dumps(value)
        return {k: _depth_limited(v, depth + 1, ctx, tags) for k, v in value.items()}
    return value


# key -> its dotted path when it is an ECS field, None when it goes to labels.
_ECS_PATHS: dict[str, tuple[str, ...] | None] = {}
_UNSEEN: tuple[str, ...] = ()


def _ecs_path(key: str) -> tuple[str, ...] | None:
    path = tuple(key.split(".")) if "." in key else (key,)
    found = path if path[0] in ECS_ROOTS else None
    if len(_ECS_PATHS) >= 4096:
        _ECS_PATHS.clear()
    _ECS_PATHS[key] = found
    return found


def _merge(target: dict[str, Any], path: Sequence[str], value: Any) -> None:
    node = target
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    last = path[-1]
    existing = node.get(last)
    if isinstance(existing, dict) and isinstance(value, dict):
        for k, v in value.items():
            _merge(existing, (k,), v)
    else:
        node[last] = value


def _parse_ecs(obj: dict[str, Any], ctx: Context) -> dict[str, Any]:
    tags: list[str] = []
    rec: dict[str, Any] = {}
    extra = _Labels(ctx, tags)
    for key, value in obj.items():
        path = _ECS_PATHS.get(key, _UNSEEN)
        if path is _UNSEEN:
            path = _ecs_path(key)
        if path is None:
            extra.add(_LABEL_KEYS.get(key) or _label_key(key), value)
            continue
        if type(value) is dict and not _fits(value, len(path), ctx.max_json_depth):
            value = _depth_limited(value, len(path), ctx, tags)
        _merge(rec, path, value)
    if "@timestamp" in rec:
        rec["@timestamp"] = _stamp(rec["@timestamp"], ctx)
    log = rec.get("log")
    if isinstance(log, dict) and "level" in log:
        level = normalize_level(log["level"])
        if level is None:
            extra.add("log_level", log.pop("level"))
        else:
            log["level"] = level
    labels = rec.get("labels")
    if labels is not None:
        if isinstance(labels, dict):
            rec["labels"] = {label_key(str(k)): _to_text(v) for k, v in labels.items()}
        else:
            del rec["labels"]
            extra.add("labels", labels)
    if extra.labels:
        rec.setdefault("labels", {}).update(extra.labels)
    message = rec.get("message")
    if message is not None and not isinstance(message, str):
        rec["message"] = _to_text(message)
    input_tags = rec.get("tags")
    if input_tags is not None and not isinstance(input_tags, list):
        rec["tags"] = [_to_text(input_tags)]
    if tags:
        rec.setdefault("tags", []).extend(tags)
    event = rec.get("event")
    if not isinstance(event, dict):
        rec["event"] = event = {}
    # The shipper's own dataset (e.g. "nginx.access") is kept; otherwise say it was JSON.
    if not isinstance(event.get("dataset"), str):
        event["dataset"] = "json"
    return rec


def _error_fields(value: Any, error: dict[str, Any]) -> bool:
    if isinstance(value, str):
        error["message"] = value
        return True
    if isinstance(value, dict):
        used = False
        for key, field in (("message", "message"), ("msg", "message"), ("name", "type"), ("type", "type")):
            if isinstance(value.get(key), str) and field not in error:
                error[field] = value[key]
                used = True
        for key in _STACK_KEYS:
            if isinstance(value.get(key), str):
                error["stack_trace"] = value[key]
                used = True
                break
        return used and len(value) <= 4
    return False


def _parse_plain(obj: dict[str, Any], ctx: Context) -> dict[str, Any]:
    tags: list[str] = []
    rec: dict[str, Any] = {"event": {"dataset": "json"}}
    log: dict[str, Any] = {}
    process: dict[str, Any] = {}
    error: dict[str, Any] = {}
    extra = _Labels(ctx, tags)
    labels = extra.labels
    max_labels = ctx.max_labels
    t = obj.get("t")
    roles = _MONGO_ROLES if type(t) is dict and "$date" in t else _ROLES
    for key, value in obj.items():
        role = roles.get(key)
        if role is None:
            pass
        elif role == "time":
            if "@timestamp" not in rec:
                stamp = _stamp(value, ctx)
                if stamp is not None:
                    rec["@timestamp"] = stamp
                    continue
        elif role == "level":
            if "level" not in log:
                level = "debug" if roles is _MONGO_ROLES and value in _MONGO_DEBUG else normalize_level(value)
                if level is not None:
                    log["level"] = level
                    continue
        elif role == "message":
            if "message" not in rec and isinstance(value, str):
                rec["message"] = value
                continue
        elif role == "logger":
            if "logger" not in log and isinstance(value, str):
                log["logger"] = value
                continue
        elif role == "caller":
            if isinstance(value, str):
                file_name, _, line = value.rpartition(":")
                if file_name and line.isdecimal():
                    log["origin"] = {"file": {"name": file_name, "line": int(line)}}
                    continue
        elif role == "host":
            if "host" not in rec and isinstance(value, str):
                rec["host"] = {"name": value}
                continue
        elif role == "pid":
            if isinstance(value, int) and not isinstance(value, bool):
                process["pid"] = value
                continue
        elif role == "thread":
            if isinstance(value, str):
                process["thread"] = {"name": value}
                continue
        elif role == "error":
            if "message" not in error and _error_fields(value, error):
                continue
        elif role == "stack" and isinstance(value, str):
            error["stack_trace"] = value
            continue
        if type(value) is dict:
            extra.add(_LABEL_KEYS.get(key) or _label_key(key), value)
        elif len(labels) < max_labels:  # _Labels.add for a scalar, inlined
            labels[_LABEL_KEYS.get(key) or _label_key(key)] = value if type(value) is str else _to_text(value)
        elif TAG_LABELS not in tags:
            tags.append(TAG_LABELS)
    if "message" not in rec:
        rec["message"] = error.get("message", "")
    if log:
        rec["log"] = log
    if process:
        rec["process"] = process
    if error:
        rec["error"] = error
    if extra.labels:
        rec["labels"] = extra.labels
    if tags:
        rec["tags"] = tags
    return rec


def _is_docker(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("log"), str) and "stream" in obj and len(obj) <= 4


def parse(
    text: str, ctx: Context, nested: NestedParser | None = None, envelope: EnvelopeHook | None = None
) -> dict[str, Any] | None:
    if text[-1:] != "}":
        text = text.rstrip()
        if text[-1:] != "}":
            return None
    if text[:1] != "{":
        return None
    try:
        # The text starts with "{" and ends with "}" (checked), so there is no leading whitespace or
        # BOM to skip and "extra data" is exactly "the object ended early".
        obj, end = jsoncodec.loads_object(text)
    except RecursionError:
        return {"message": text, "tags": [TAG_TOO_DEEP], "event": {"dataset": "json"}}
    except (ValueError, StopIteration):
        return None
    if end != len(text):
        return None
    if not isinstance(obj, dict):
        return None
    if envelope is not None and nested is not None:  # --- shippers' envelopes (issue 13) ---
        unwrapped = envelope(obj, ctx, nested)
        if unwrapped is not None:
            return unwrapped
    if "@timestamp" in obj or "ecs.version" in obj or isinstance(obj.get("ecs"), dict):
        return _parse_ecs(obj, ctx)
    if _is_docker(obj):
        return _parse_docker(obj, ctx, nested)
    return _parse_plain(obj, ctx)


def _parse_docker(obj: dict[str, Any], ctx: Context, nested: NestedParser | None) -> dict[str, Any]:
    payload: str = obj["log"]
    payload = payload[:-1] if payload.endswith("\n") else payload
    rec: dict[str, Any] | None = nested(payload, ctx) if nested is not None and payload else None
    if rec is None:
        rec = {"message": payload, "event": {"dataset": "json"}}
    if rec.get("@timestamp") is None and "time" in obj:
        rec["@timestamp"] = _stamp(obj["time"], ctx)
    labels = rec.setdefault("labels", {})
    labels["envelope"] = "docker"
    labels["stream"] = _to_text(obj.get("stream"))
    for key, value in obj.items():
        if key not in ("log", "stream", "time"):
            labels[label_key(key)] = _to_text(value)
    return rec


# --- for common.parsing.envelopes (issue 13): the conversions a shipper's metadata goes through ---


def to_text(value: Any) -> str:
    """A JSON value as label text."""
    return _to_text(value)


def stamp(value: Any, ctx: Context) -> str | None:
    """UTC ISO text for a JSON time value (ISO text, epoch number or text), or None."""
    return _stamp(value, ctx)


def ecs_fields(obj: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """An ECS-shaped object as a record: ECS fields in place (dotted keys expanded), the rest in labels."""
    return _parse_ecs(obj, ctx)


FORMAT: Final = Format(
    "json",
    ("json",),
    (
        # detect._json: a top-level object may be a shipper's envelope, and its values may hold lines.
        Line("_json", "{", 10),
        Line(parse, PAYLOAD, 10, claims='text[:1] == "{"', final=True, args="parse_known"),
    ),
)
