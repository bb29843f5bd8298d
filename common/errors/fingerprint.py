"""``error.fingerprint`` for every error record: what the same error shares and different errors do not.

An error record is one at level ``error`` or worse, or one with ``error.type`` or
``error.stack_trace``. Its fingerprint is the first 16 hex digits of the SHA-1 of its grouping
input, one line per item:

- with a stack trace: the exception's type, the root cause's type for a chain (Java's last
  ``Caused by:``, .NET's innermost ``--->``, Python's first traceback) and the frames (module or
  file plus function), the application's own when it has any (``frames``). A Go panic adds its
  message's template, since every panic's type is just ``panic``;
- without one: the type, if any, and the message's template (``template``), which is kept in
  ``error.grouping.template``.

A fingerprint already on the record (a shipper's, or one a JSON line carries) is kept; a rule's
``set`` of ``error.fingerprint`` runs after parsing and so overrides both. docs/errors.md has it all.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from common.errors import frames as stack_frames
from common.errors.template import template

ALGORITHM_VERSION: Final = "v1"  # part of the hashed input: a change of algorithm is a new group
FINGERPRINT_HEX_DIGITS: Final = 16
# common.schema.ecs.LEVELS from "error" up (common.parsing.levels normalises every spelling to these)
ERROR_LEVELS: Final = frozenset(("error", "critical", "alert", "emergency", "fatal"))


def is_error(record: dict[str, Any]) -> bool:
    error = record.get("error")
    if type(error) is dict and (error.get("type") or error.get("stack_trace")):
        return True
    log = record.get("log")
    return type(log) is dict and log.get("level") in ERROR_LEVELS


def grouping_input(record: dict[str, Any]) -> tuple[list[str], str | None]:
    """The lines hashed into the fingerprint, and the message template when the message was used."""
    error = record.get("error")
    if type(error) is not dict:
        error = {}
    known_type = error.get("type")
    error_type = known_type if isinstance(known_type, str) else ""
    stack = error.get("stack_trace")
    parts = [ALGORITHM_VERSION]
    if isinstance(stack, str) and stack:
        found = stack_frames.extract(stack)
        chosen = found.preferred()
        if chosen:
            top, root = stack_frames.exception_types(stack, error_type)
            parts.append("type:" + top)
            if root:
                parts.append("cause:" + root)
            if top == "panic":
                message = error.get("message")
                parts.append("message:" + template(message if isinstance(message, str) else ""))
            parts.extend("frame:" + f for f in chosen)
            return parts, None
        if not error_type:
            error_type = stack_frames.exception_types(stack, None)[0]
    text = _message(record, error)
    shape = template(text)
    parts.append("type:" + error_type)
    parts.append("template:" + shape)
    return parts, shape


def _message(record: dict[str, Any], error: dict[str, Any]) -> str:
    message = record.get("message")
    text = message if isinstance(message, str) else ""
    detail = error.get("message")
    # A structured logger's `msg` plus its `error` string ("dial tcp ...: connection refused").
    if isinstance(detail, str) and detail and detail not in text:
        text = f"{text}: {detail}" if text else detail
    return text


def fingerprint_of(parts: list[str]) -> str:
    digest = hashlib.sha1("\n".join(parts).encode("utf-8", "surrogatepass"), usedforsecurity=False)
    return digest.hexdigest()[:FINGERPRINT_HEX_DIGITS]


def annotate(record: dict[str, Any]) -> None:
    """Add ``error.fingerprint`` (and ``error.grouping.template``) to an error record, in place.

    Never raises: a record the algorithm cannot read keeps no fingerprint rather than being lost.
    """
    try:
        if not is_error(record):
            return
        error = record.get("error")
        if error is None:
            error = record["error"] = {}
        elif type(error) is not dict:
            return  # a source's own scalar `error`: not ours to replace
        if error.get("fingerprint"):
            return
        parts, shape = grouping_input(record)
        error["fingerprint"] = fingerprint_of(parts)
        if shape is not None:
            grouping = error.get("grouping")
            if type(grouping) is not dict:
                grouping = error["grouping"] = {}
            grouping["template"] = shape
    except Exception:
        return
