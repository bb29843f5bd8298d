"""A shipper's envelope as a stream line: which key holds the log line, the line, and where it came from.

What joining multi-line events needs from an envelope (docs/multiline.md): the inner line, and the
host plus file or container that make its stream, without parsing the line. ``with_line`` puts a
joined text back under the same key, so the envelope is then parsed as one message whose line spans
several lines (``fields.unwrap_line`` keeps the rest of the lines in ``message`` and reads the trace).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from common.parsing.envelopes import registry


class EnvelopeLine(NamedTuple):
    shipper: str
    key: str  # the envelope's key that holds the line
    text: str
    host: str
    file: str
    container: str


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _at(obj: dict[str, Any], *path: str) -> str:
    node: Any = obj
    for part in path:
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    return _text(node)


def _joined(*parts: str) -> str:
    return "/".join(part for part in parts if part)


def line_key(shipper: str, obj: dict[str, Any]) -> str:
    """The key of ``obj`` (an envelope of ``shipper``) that holds the log line."""
    if shipper == "rsyslog":
        return "msg"
    if shipper == "fluent" and isinstance(obj.get("log"), str):
        return "log"
    return "message"


def envelope_line(obj: dict[str, Any]) -> EnvelopeLine | None:
    """``obj`` as an envelope around one text line, or None (not an envelope, or its line is not text)."""
    shipper = registry.shipper(obj)
    if shipper is None:
        return None
    key = line_key(shipper, obj)
    text = obj.get(key)
    if not isinstance(text, str):
        return None
    if shipper == "rsyslog" and text[:1] == " ":
        text = text[1:]  # the space after the syslog tag, not the line's own indentation
    if shipper in ("filebeat", "logstash"):
        host = obj.get("host")
        host_name = _text(host) or _at(obj, "host", "name") or _at(obj, "host", "hostname")
        file = _at(obj, "log", "file", "path") or _text(obj.get("log.file.path")) or _text(obj.get("path"))
        container = _joined(
            _at(obj, "kubernetes", "namespace"),
            _at(obj, "kubernetes", "pod", "name"),
            _at(obj, "kubernetes", "container", "name"),
        ) or (_at(obj, "container", "name") or _at(obj, "container", "id"))
        return EnvelopeLine(shipper, key, text, host_name, file, container)
    if shipper == "vector":
        container = _joined(
            _at(obj, "kubernetes", "pod_namespace"),
            _at(obj, "kubernetes", "pod_name"),
            _at(obj, "kubernetes", "container_name"),
        )
        return EnvelopeLine(shipper, key, text, _text(obj.get("host")), _text(obj.get("file")), container)
    if shipper == "fluent":
        container = _joined(
            _at(obj, "kubernetes", "namespace_name"),
            _at(obj, "kubernetes", "pod_name"),
            _at(obj, "kubernetes", "container_name"),
        ) or (_text(obj.get("container_name")) or _at(obj, "docker", "container_id"))
        host = _text(obj.get("hostname")) or _text(obj.get("host")) or _at(obj, "kubernetes", "host")
        return EnvelopeLine(
            shipper, key, text, host, _text(obj.get("path")) or _text(obj.get("file")), container
        )
    # rsyslog: one program's lines on one host are one stream.
    program = _text(obj.get("programname")) or _text(obj.get("app-name"))
    return EnvelopeLine(shipper, key, text, _text(obj.get("hostname")), "", program)


def with_line(obj: dict[str, Any], text: str) -> dict[str, Any] | None:
    """A copy of the envelope ``obj`` whose line is ``text``; None when ``obj`` is not an envelope."""
    shipper = registry.shipper(obj)
    if shipper is None:
        return None
    return {**obj, line_key(shipper, obj): text}
