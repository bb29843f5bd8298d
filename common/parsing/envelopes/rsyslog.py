"""rsyslog's omkafka with a JSON template: the ``jsonmesg`` property (every message property) or a
``list`` template of ``property(... format="jsonf")`` fields under their property names: ``msg``,
``rawmsg``, ``timereported``/``timegenerated``, ``hostname``, ``fromhost``, ``fromhost-ip``,
``syslogtag``, ``programname``, ``app-name``, ``procid``, ``msgid``, ``pri``, ``syslogfacility[-text]``,
``syslogseverity[-text]``, ``structured-data``, ``$!``. The line is ``msg`` (the syslog MSG part)."""

from __future__ import annotations

from typing import Any, Final

from common.parsing.context import Context
from common.parsing.envelopes.fields import NestedParser, add_labels, put, unwrap_line
from common.parsing.formats import json_lines
from common.parsing.levels import SYSLOG_SEVERITY, normalize_level

# Any of these next to a string "msg" says rsyslog: no other shipper uses these names.
MARKERS: Final = frozenset(
    (
        "syslogtag", "programname", "timereported", "timegenerated", "syslogseverity", "syslogseverity-text",
        "syslogfacility", "syslogfacility-text", "app-name", "fromhost", "fromhost-ip", "rawmsg",
    )
)  # fmt: skip
# Carried in event.original already, or said by the fields mapped.
_DROPPED: Final = frozenset(("msg", "rawmsg", "rawmsg-after-pri", "timegenerated", "$!"))


def marked(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` has one of ``MARKERS`` (one ``in`` test each: cheaper than a set intersection)."""
    return (
        "syslogtag" in obj
        or "programname" in obj
        or "timereported" in obj
        or "timegenerated" in obj
        or "syslogseverity" in obj
        or "syslogseverity-text" in obj
        or "syslogfacility" in obj
        or "syslogfacility-text" in obj
        or "app-name" in obj
        or "fromhost" in obj
        or "fromhost-ip" in obj
        or "rawmsg" in obj
    )


def recognise(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("msg"), str) and marked(obj)


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return None


def unwrap(obj: dict[str, Any], ctx: Context, nested: NestedParser) -> dict[str, Any]:
    outer: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key in ("timereported", "timestamp", "timegenerated"):
        if key in obj:
            stamp = json_lines.stamp(obj[key], ctx)
            if stamp is not None:
                outer["@timestamp"] = stamp
                break
    for key, value in obj.items():
        if key in _DROPPED or key in ("timereported", "timestamp"):
            continue
        number = _int(value)
        if key == "hostname" and isinstance(value, str):
            put(outer, "host.name", value)
        elif key in ("programname", "app-name") and isinstance(value, str) and value and value != "-":
            if "process" not in outer or "name" not in outer["process"]:
                put(outer, "process.name", value)
        elif key == "procid" and number is not None:
            put(outer, "process.pid", number)
        elif key == "pri" and number is not None:
            put(outer, "log.syslog.priority", number)
        elif key == "syslogfacility" and number is not None:
            put(outer, "log.syslog.facility.code", number)
        elif key == "syslogfacility-text" and isinstance(value, str):
            put(outer, "log.syslog.facility.name", value)
        elif key == "syslogseverity" and number is not None and 0 <= number < 8:
            put(outer, "log.syslog.severity.code", number)
            put(outer, "log.level", SYSLOG_SEVERITY[number])
        elif key == "syslogseverity-text" and isinstance(value, str):
            put(outer, "log.syslog.severity.name", value)
            level = normalize_level(value)
            if level is not None:
                put(outer, "log.level", level)
        elif key == "msgid" and isinstance(value, str) and value != "-":
            put(outer, "log.syslog.msgid", value)
        elif value is not None and value != "" and value != "-":
            rest[key] = value
    variables = obj.get("$!")
    if isinstance(variables, dict) and variables:
        rest["vars"] = variables
    put(outer, "agent.type", "rsyslog")
    add_labels(outer, "", rest, ctx)
    return unwrap_line(outer, obj["msg"].lstrip(" "), ctx, nested, "syslog")
