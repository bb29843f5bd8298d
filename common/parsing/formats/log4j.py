"""log4j / logback / Spring Boot / Hadoop-style lines, parsed after their leading timestamp.

Shapes (the timestamp is already consumed by the dispatcher):
``... INFO [main] a.b.C: msg`` (Hadoop), ``... INFO a.b: msg`` (Spark), ``... 148 INFO a.b: msg`` (HDFS),
``... - INFO  [thread:Class@774] - msg`` (ZooKeeper), ``... [main] INFO  a.b.C - msg`` (logback),
``...  INFO 1234 --- [main] a.b.C : msg`` (Spring Boot), ``[...] INFO msg (a.b.C)`` (Kafka).
"""

from __future__ import annotations

import re
from typing import Any

from common.parsing.context import Context
from common.parsing.levels import normalize_level

_LOGGER = r"([\w$.\-/]+(?:\[[^\]\s]*\])?)"

_THREAD_LOGGER_RE = re.compile(r" ([A-Za-z]+) *\[(.*?)\] " + _LOGGER + r" ?: ?(.*)", re.DOTALL)
_ZOOKEEPER_RE = re.compile(r" - ([A-Za-z]+) *\[(.*?)\] - (.*)", re.DOTALL)
_ZK_ORIGIN_RE = re.compile(r"(.*):([\w$.]+)@(\d+)$", re.DOTALL)
_LOGBACK_RE = re.compile(r" \[(.*?)\] ([A-Za-z]+) +" + _LOGGER + r" -(?: (.*)|$)", re.DOTALL)
_LEVEL_LOGGER_RE = re.compile(r" ([A-Za-z]+) +" + _LOGGER + r"(?::| -)(?: (.*)|$)", re.DOTALL)
_PID_LEVEL_LOGGER_RE = re.compile(r" (\d+) ([A-Za-z]+) +" + _LOGGER + r": ?(.*)", re.DOTALL)
# Kafka's "[%d] %p %m (%c)%n": the logger comes last, in parentheses.
_TRAILING_LOGGER_RE = re.compile(r" ([A-Za-z]+) (.*) \(([\w$.]+)\)$", re.DOTALL)
_SPRING_RE = re.compile(
    r" +([A-Za-z]+) (\d+) --- (?:\[[^\]]*\] )?\[ *(.*?)\] " + _LOGGER + r" *: ?(.*)", re.DOTALL
)


def _record(ts: str | None, level: str, logger: str, msg: str) -> dict[str, Any]:
    return {
        "@timestamp": ts,
        "message": msg,
        "log": {"level": level, "logger": logger},
        "event": {"dataset": "log4j"},
    }


def parse_tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    first = rest[:3]
    if first == " - ":
        m = _ZOOKEEPER_RE.match(rest)
        if m is None:
            return None
        level = normalize_level(m.group(1))
        if level is None:
            return None
        where = m.group(2)
        origin = _ZK_ORIGIN_RE.match(where)
        if origin is None:
            rec = _record(ts, level, where, m.group(3))
            rec["process"] = {"thread": {"name": where}}
            return rec
        rec = _record(ts, level, origin.group(2), m.group(3))
        rec["log"]["origin"] = {"file": {"line": int(origin.group(3))}}
        rec["process"] = {"thread": {"name": origin.group(1)}}
        return rec
    if first[:2] == " [":
        m = _LOGBACK_RE.match(rest)
        if m is None:
            return None
        level = normalize_level(m.group(2))
        if level is None:
            return None
        rec = _record(ts, level, m.group(3), m.group(4) or "")
        rec["process"] = {"thread": {"name": m.group(1)}}
        return rec
    if first[1:2].isdigit():
        m = _PID_LEVEL_LOGGER_RE.match(rest)
        if m is None:
            return None
        level = normalize_level(m.group(2))
        if level is None:
            return None
        rec = _record(ts, level, m.group(3), m.group(4))
        rec["process"] = {"pid": int(m.group(1))}
        return rec
    m = _THREAD_LOGGER_RE.match(rest)
    if m is not None:
        level = normalize_level(m.group(1))
        if level is not None:
            rec = _record(ts, level, m.group(3), m.group(4))
            rec["process"] = {"thread": {"name": m.group(2)}}
            return rec
    m = _SPRING_RE.match(rest)
    if m is not None:
        level = normalize_level(m.group(1))
        if level is not None:
            rec = _record(ts, level, m.group(4), m.group(5))
            rec["process"] = {"pid": int(m.group(2)), "thread": {"name": m.group(3)}}
            return rec
    m = _LEVEL_LOGGER_RE.match(rest)
    if m is not None:
        level = normalize_level(m.group(1))
        if level is not None:
            return _record(ts, level, m.group(2), m.group(3) or "")
    m = _TRAILING_LOGGER_RE.match(rest)
    if m is not None:
        level = normalize_level(m.group(1))
        if level is not None:
            return _record(ts, level, m.group(3), m.group(2))
    return None
