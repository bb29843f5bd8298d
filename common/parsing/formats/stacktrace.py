"""Stack traces inside a multi-line message: Java/JVM, Python and Go panics.

Fills ``error.type``, ``error.message`` and ``error.stack_trace`` (the trace text from the exception
line to the end); the record's ``message`` keeps the whole free text.
"""

from __future__ import annotations

import re
from typing import Any, Final

_JAVA_EXCEPTION_RE: Final = re.compile(
    r'(?:Exception in thread "[^"]*" |Caused by: )?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+)(?:: ?(.*))?$'
)
_PYTHON_EXCEPTION_RE: Final = re.compile(
    r"([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt|\w*))(?:: ?(.*))?$"
)


def _java(lines: list[str]) -> dict[str, Any] | None:
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("at ") and index > 0:
            # The exception line is the nearest line above the first frame that names a class.
            for head in range(index - 1, -1, -1):
                m = _JAVA_EXCEPTION_RE.match(lines[head].strip())
                if m is not None:
                    error: dict[str, Any] = {"type": m.group(1), "stack_trace": "\n".join(lines[head:])}
                    if m.group(2):
                        error["message"] = m.group(2)
                    return error
            return {"stack_trace": "\n".join(lines[index - 1 :])}
    return None


def _python(lines: list[str]) -> dict[str, Any] | None:
    for index, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last):"):
            error: dict[str, Any] = {"stack_trace": "\n".join(lines[index:])}
            for last in reversed(lines[index + 1 :]):
                if last and not last[0].isspace():
                    m = _PYTHON_EXCEPTION_RE.match(last)
                    if m is not None:
                        error["type"] = m.group(1)
                        if m.group(2):
                            error["message"] = m.group(2)
                    break
            return error
    return None


def _go(lines: list[str]) -> dict[str, Any] | None:
    for index, line in enumerate(lines):
        if line.startswith("panic: ") and any(x.startswith("goroutine ") for x in lines[index + 1 :]):
            return {"type": "panic", "message": line[7:], "stack_trace": "\n".join(lines[index:])}
    return None


def extract(text: str) -> dict[str, Any] | None:
    """ECS ``error`` fields for the first stack trace in ``text``, or None if it holds none."""
    lines = text.split("\n")
    if "Traceback (most recent call last):" in text:
        found = _python(lines)
        if found is not None:
            return found
    if "panic: " in text:
        found = _go(lines)
        if found is not None:
            return found
    if "at " in text:
        return _java(lines)
    return None
