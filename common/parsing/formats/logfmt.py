"""logfmt: ``time=... level=info msg="hello \\"you\\"" user=bob``.

Known keys fill ECS fields (time/ts/t, level/lvl/severity, msg/message, logger/caller/...); every
other pair goes to ``labels`` as a string. A bare key (``key`` without ``=``) is ``"true"``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import LOWER, OTHER, PAYLOAD, UPPER, Format, Line
from common.parsing.labels import label_key
from common.parsing.levels import normalize_level
from common.parsing.timestamps import from_epoch

_VALUE: Final = r'(?:"[^"\\]*(?:\\.[^"\\]*)*"|[^\s"]*)'
# findall -> (key, "=" or "" for a bare key, raw value); used when the line has tabs or backslashes
_PAIR_RE: Final = re.compile(r'([^\s="]+)(?:(=)(' + _VALUE + r"))?")
# The whole line must be pairs separated by blanks, the first with a value; checked in one C-level
# pass before splitting.
_LINE_RE: Final = re.compile(r'[ \t]*[^\s="]+=' + _VALUE + r'(?:[ \t]+[^\s="]+(?:=' + _VALUE + r")?)*[ \t]*")
_ESCAPE_RE: Final = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r"}

_TIME_KEYS: Final = frozenset(("time", "ts", "t", "timestamp", "@timestamp", "date"))
_LEVEL_KEYS: Final = frozenset(("level", "lvl", "severity", "loglevel", "log.level", "at"))  # "at": Heroku
_MESSAGE_KEYS: Final = frozenset(("msg", "message"))
_LOGGER_KEYS: Final = frozenset(("logger", "component", "module"))

# What a key means, by its lower-case spelling: "" (a label) or one of these.
_MESSAGE, _LEVEL, _TIME, _LOGGER, _CALLER = "message", "level", "time", "logger", "caller"
# key -> (meaning, label key); keys repeat from line to line, so this is one dict hit per pair.
_key_cache: dict[str, tuple[str, str]] = {}


def _role(key: str) -> tuple[str, str]:
    lowered = key.lower()
    if lowered in _MESSAGE_KEYS:
        role = _MESSAGE
    elif lowered in _LEVEL_KEYS:
        role = _LEVEL
    elif lowered in _TIME_KEYS:
        role = _TIME
    elif lowered in _LOGGER_KEYS:
        role = _LOGGER
    elif lowered == "caller":
        role = _CALLER
    else:
        role = ""
    found = (role, label_key(key))
    if len(_key_cache) >= 4096:
        _key_cache.clear()
    _key_cache[key] = found
    return found


def _unquote(value: str) -> str:
    """A quoted value's text: each backslash escape (``_ESCAPE_RE``) resolved, by ``find`` and slicing
    rather than a regex substitution with a Python callback per escape."""
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    pieces: list[str] = []
    start = 0
    while True:
        slash = inner.find("\\", start)
        if slash < 0 or slash + 1 == len(inner):  # a lone final backslash stays (no escape follows)
            pieces.append(inner[start:])
            return "".join(pieces)
        pieces.append(inner[start:slash])
        escaped = inner[slash + 1]
        pieces.append(_ESCAPES.get(escaped, escaped))
        start = slash + 2


def split_pairs(text: str) -> list[tuple[str, str | None]] | None:
    """The pairs of a whole logfmt line (value None for a bare key, quoted values still quoted), or
    None unless the line is entirely ``key=value`` pairs, the first with a value."""
    if text.isprintable():
        # Most lines offered here are prose with an "=" somewhere: a first word that is not
        # key=value (a bare or empty key) rules the line out before it is split.
        head = text.lstrip(" ")
        space = head.find(" ")
        if head.find("=", 0, len(head) if space < 0 else space) <= 0:
            return None
        return _split_plain(text) if "\\" not in text else _split_escaped(text)
    if _LINE_RE.fullmatch(text) is None:
        return None
    return [(key, value if eq else None) for key, eq, value in _PAIR_RE.findall(text)]


def _split_plain(text: str) -> list[tuple[str, str | None]] | None:
    """split_pairs for a line whose only blank is the space and that has no backslash: str.split and
    partition, several times cheaper than the regexes. With no escapes and no tabs the grammar is
    plain: a quoted value runs from a token starting ``key="`` to the next quote, which must end a
    token; any other quote, an empty key or an unclosed quote makes the line not logfmt."""
    pairs: list[tuple[str, str | None]] = []
    tokens = iter(text.split(" "))
    for token in tokens:
        if not token:
            continue  # leading, trailing or repeated spaces
        key, eq, value = token.partition("=")
        if not key or '"' in key:
            return None
        if not eq:
            pairs.append((key, None))
            continue
        if '"' in value:
            if value[0] != '"':
                return None
            quotes = value.count('"')
            while quotes == 1:  # the quoted value spans spaces: take tokens up to the closing quote
                more = next(tokens, None)
                if more is None:
                    return None
                value = f"{value} {more}"
                quotes += more.count('"')
            if quotes != 2 or value[-1] != '"':
                return None
        pairs.append((key, value))
    if not pairs or pairs[0][1] is None:
        return None
    return pairs


def _split_escaped(text: str) -> list[tuple[str, str | None]] | None:
    """split_pairs for a line whose only blank is the space, with backslashes: a position scan by
    ``find``. A backslash escapes the next character inside a quoted value and is an ordinary
    character anywhere else; a quoted value ends at its first unescaped quote, which must end the
    token."""
    pairs: list[tuple[str, str | None]] = []
    end = len(text)
    pos = 0
    while pos < end:
        if text[pos] == " ":
            pos += 1
            continue
        space = text.find(" ", pos)
        if space < 0:
            space = end
        equals = text.find("=", pos, space)
        if equals == pos:  # an empty key
            return None
        start = equals + 1
        if equals < 0 or text[start : start + 1] != '"':
            # A bare key or an unquoted value: the whole token, which may hold no quote.
            token = text[pos:space]
            if '"' in token:
                return None
            pairs.append((token, None) if equals < 0 else (text[pos:equals], text[start:space]))
            pos = space
            continue
        key = text[pos:equals]
        if '"' in key:
            return None
        scan = start + 1
        while True:  # to the closing quote, stepping over each backslash and what it escapes
            quote = text.find('"', scan)
            if quote < 0:
                return None
            slash = text.find("\\", scan, quote)
            if slash < 0:
                break
            scan = slash + 2
        pos = quote + 1
        if pos < end and text[pos] != " ":
            return None
        pairs.append((key, text[start:pos]))
    if not pairs or pairs[0][1] is None:
        return None
    return pairs


def _parse(text: str, ctx: Context) -> dict[str, Any] | None:
    if "=" not in text[:64] or "\n" in text:
        return None
    pairs = split_pairs(text)
    if pairs is None:
        return None
    rec: dict[str, Any] = {"event": {"dataset": "logfmt"}}
    labels: dict[str, str] = {}
    log: dict[str, Any] = {}
    max_labels = ctx.max_labels
    valued = 0
    for key, raw in pairs:
        if raw is None:
            value = "true"
        else:
            valued += 1
            # only a quoted value can hold a quote
            value = _unquote(raw) if '"' in raw else raw
        role, label = _key_cache.get(key) or _role(key)
        if not role:
            if len(labels) < max_labels:
                labels[label] = value
        elif role is _MESSAGE and "message" not in rec:
            rec["message"] = value
        elif role is _LEVEL and "level" not in log:
            level = normalize_level(value)
            if level is None:
                labels[label] = value
            else:
                log["level"] = level
        elif role is _TIME and "@timestamp" not in rec:
            stamp = ctx.iso_text_stamp(value)
            if stamp is None and value.replace(".", "", 1).isdecimal():
                stamp = from_epoch(value)
            if stamp is None:
                labels[label] = value
            else:
                rec["@timestamp"] = stamp
        elif role is _LOGGER and "logger" not in log:
            log["logger"] = value
        elif role is _CALLER and "origin" not in log:
            file_name, _, line = value.rpartition(":")
            if file_name and line.isdecimal():
                log["origin"] = {"file": {"name": file_name, "line": int(line)}}
            else:
                labels[label] = value
        elif len(labels) < max_labels:
            labels[label] = value
    if valued < 2:
        return None
    if "message" not in rec:
        rec["message"] = text
    if log:
        rec["log"] = log
    if labels:
        rec["labels"] = labels
    return rec


FORMAT: Final = Format(
    "logfmt",
    ("logfmt",),
    (
        Line(_parse, UPPER, 50),
        Line(_parse, LOWER, 10),
        Line(_parse, OTHER, 20),
        Line(_parse, PAYLOAD, 30, claims='"=" in text[:64]'),
    ),
)
