"""log4j / logback / Spring Boot / Hadoop-style lines, parsed after their leading timestamp.

Shapes (the timestamp is already consumed by the dispatcher):
``... INFO [main] a.b.C: msg`` (Hadoop), ``... INFO a.b: msg`` (Spark), ``... 148 INFO a.b: msg`` (HDFS),
``... - INFO  [thread:Class@774] - msg`` (ZooKeeper), ``... [main] INFO  a.b.C - msg`` (logback),
``...  INFO 1234 --- [main] a.b.C : msg`` (Spring Boot), ``[...] INFO msg (a.b.C)`` (Kafka).
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import AfterStamp, Format
from common.parsing.levels import normalize_level
from common.parsing.numbers import INTS, to_int

_LOGGER: Final = r"([\w$.\-/]+(?:\[[^\]\s]*\])?)"

_THREAD_LOGGER_RE: Final = re.compile(r" ([A-Za-z]+) *\[(.*?)\] " + _LOGGER + r" ?: ?(.*)", re.DOTALL)
_ASCII_LETTERS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_LOGBACK_RE: Final = re.compile(r" \[(.*?)\] ([A-Za-z]+) +" + _LOGGER + r" -(?: (.*)|$)", re.DOTALL)
_LEVEL_LOGGER_RE: Final = re.compile(r" ([A-Za-z]+) +" + _LOGGER + r"(?::| -)(?: (.*)|$)", re.DOTALL)
_PID_LEVEL_LOGGER_RE: Final = re.compile(r" (\d+) ([A-Za-z]+) +" + _LOGGER + r": ?(.*)", re.DOTALL)
# Kafka's "[%d] %p %m (%c)%n": the logger comes last, in parentheses.
_TRAILING_LOGGER_RE: Final = re.compile(r" ([A-Za-z]+) (.*) \(([\w$.]+)\)$", re.DOTALL)
_SPRING_RE: Final = re.compile(
    r" +([A-Za-z]+) (\d+) --- (?:\[[^\]]*\] )?\[ *(.*?)\] " + _LOGGER + r" *: ?(.*)", re.DOTALL
)


def _record(
    ts: str | None, level: str, logger: str, msg: str, process: dict[str, Any] | None = None
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "@timestamp": ts,
        "message": msg,
        "log": {"level": level, "logger": logger},
        "event": {"dataset": "log4j"},
    }
    if process is not None:
        rec["process"] = process
    return rec


# ZooKeeper's " - LEVEL  [thread:Class@line] - msg" is read with find and character tests, not a
# regex: its thread holds colons and brackets, and the regex's lazy and backtracking groups cost
# more there than the rest of the line's parsing together.


def zookeeper_parts(rest: str) -> tuple[str, str, str] | None:
    """``(level word, bracketed part, message)``: what ``" - ([A-Za-z]+) *\\[(.*?)\\] - (.*)"`` (DOTALL)
    matched at the start of ``rest`` captures, or None where it does not match."""
    if not rest.startswith(" - "):
        return None
    end = len(rest)
    i = 3
    while i < end and rest[i] in _ASCII_LETTERS:
        i += 1
    if i == 3:
        return None
    word = rest[3:i]
    while i < end and rest[i] == " ":
        i += 1
    if rest[i : i + 1] != "[":
        return None
    close = rest.find("] - ", i + 1)
    if close < 0:
        return None
    return word, rest[i + 1 : close], rest[close + 4 :]


def _class_char(c: str) -> bool:  # [\\w$.] of a str pattern
    return c.isalnum() or c in "_$."


def zookeeper_origin(where: str) -> tuple[str, str, str] | None:
    """``(thread, class, line)``: what ``"(.*):([\\w$.]+)@(\\d+)$"`` (DOTALL) captures in the bracketed
    part, or None. The class and the line admit neither ``:`` nor ``@``, so they are the runs that
    end the text (``$`` also before one final newline), and the match is unique."""
    end = len(where) - 1 if where.endswith("\n") else len(where)
    at = end
    while at > 0 and where[at - 1].isdecimal():
        at -= 1
    if at == end or at == 0 or where[at - 1] != "@":
        return None
    colon = at - 1
    while colon > 0 and _class_char(where[colon - 1]):
        colon -= 1
    if colon == at - 1 or colon == 0 or where[colon - 1] != ":":
        return None
    return where[: colon - 1], where[colon : at - 1], where[at:end]


def _tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    first = rest[:3]
    if first == " - ":
        parts = zookeeper_parts(rest)
        if parts is None:
            return None
        word, where, msg = parts
        level = normalize_level(word)
        if level is None:
            return None
        origin = zookeeper_origin(where)
        if origin is None:
            return _record(ts, level, where, msg, {"thread": {"name": where}})
        thread, logger, line = origin
        rec = _record(ts, level, logger, msg, {"thread": {"name": thread}})
        rec["log"]["origin"] = {"file": {"line": INTS.get(line) or to_int(line)}}
        return rec
    second = first[1:2]
    if second == "[":
        m = _LOGBACK_RE.match(rest)
        if m is None:
            return None
        thread, word, logger, msg = m.groups()
        level = normalize_level(word)
        if level is None:
            return None
        return _record(ts, level, logger, msg or "", {"thread": {"name": thread}})
    if second.isdecimal():
        m = _PID_LEVEL_LOGGER_RE.match(rest)
        if m is None:
            return None
        pid, word, logger, msg = m.groups()
        level = normalize_level(word)
        if level is None:
            return None
        return _record(ts, level, logger, msg, {"pid": INTS.get(pid) or to_int(pid)})
    # The patterns below need a level word right after the blank (except Spring Boot's padded one),
    # and each its own landmark; checking those first spares most failed regex attempts.
    word_first = second.isalpha()
    if word_first and "[" in rest:
        m = _THREAD_LOGGER_RE.match(rest)
        if m is not None:
            word, thread, logger, msg = m.groups()
            level = normalize_level(word)
            if level is not None:
                return _record(ts, level, logger, msg, {"thread": {"name": thread}})
    if " --- " in rest:
        m = _SPRING_RE.match(rest)
        if m is not None:
            word, pid, thread, logger, msg = m.groups()
            level = normalize_level(word)
            if level is not None:
                return _record(
                    ts, level, logger, msg, {"pid": INTS.get(pid) or to_int(pid), "thread": {"name": thread}}
                )
    if not word_first:
        return None
    m = _LEVEL_LOGGER_RE.match(rest)
    if m is not None:
        word, logger, msg = m.groups()
        level = normalize_level(word)
        if level is not None:
            return _record(ts, level, logger, msg or "")
    if ")" in rest[-2:]:  # "$" also matches before a final newline (a Docker payload's)
        m = _TRAILING_LOGGER_RE.match(rest)
        if m is not None:
            word, msg, logger = m.groups()
            level = normalize_level(word)
            if level is not None:
                return _record(ts, level, logger, msg)
    return None


FORMAT: Final = Format("log4j", ("log4j",), (AfterStamp(_tail, " ", 30),))
