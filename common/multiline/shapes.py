"""The built-in rule sets: which lines continue a stack trace of Java, Python, Go, .NET or Node.

A small state machine, one line at a time, in the spirit of Fluent Bit's built-in multiline parsers:
most lines are decided by their first character (an indented line continues, a line starting with a
digit, ``[``, ``{`` or ``<`` is a log header and starts a new event), and only lines that start with
a letter at column 0 meet a ``startswith`` test or one short anchored regex. The patterns are fixed
and written without nested quantifiers, so the standard ``re`` module runs them in linear time and
faster than RE2's wrapper would on such short matches; operators' own patterns go through RE2.

What continues the pending event (see docs/multiline.md for examples):

- ``INDENT``: a line starting with a space or a tab (Java ``\\tat``, ``\\t... 3 more``, .NET
  ``   at ... in file:line``, ``--- End of inner exception stack trace ---``, Node ``    at fn (f:1:2)``,
  Python ``  File ...``, Go ``\\t/src/file.go:12 +0x1d``);
- ``EXCEPTION``: an exception line (``java.lang.IllegalStateException: msg``, ``KeyError: 'k'``,
  ``System.InvalidOperationException: msg``, Node ``TypeError: msg``) right after a one-line
  event that reads as an error or warning (``ERROR``, ``fail:``, ``SEVERE``, ``warn``...): the log
  header a logger writes before the trace it prints. After any other line, it starts an event;
- ``CHAINS``: Java's ``Caused by:``, ``Suppressed:``, ``Wrapped by:`` and .NET's
  ``--- End of stack trace from previous location ---`` at column 0;
- ``PYTHON``: ``Traceback (most recent call last):`` after such an error header, then everything up to
  and including the final ``Error: message`` line, blank lines and the ``During handling of the
  above exception...`` / ``The above exception was the direct cause...`` chain to the next traceback;
- ``GO``: after ``panic:``, ``fatal error:`` or ``goroutine N [...]:``, blank lines, ``goroutine``
  headers, function lines (``main.main()``), ``created by ...``, ``[signal ...]``, ``exit status N``.

A blank line continues a pending event; trailing blank lines are dropped from the joined text.
"""

from __future__ import annotations

import re
from typing import Final

# What a rule's classification says about a line (shared with rules.py and joiner.py).
CONTINUE: Final = 0  # the line joins the pending event
START: Final = 1  # the line starts a new event; the pending one, if any, is complete
CONTINUE_LAST: Final = 2  # the line joins the pending event and completes it
ALONE: Final = 3  # the pending event is complete, and the line is a complete event by itself

# Features of a built-in rule set.
INDENT: Final = 1
EXCEPTION: Final = 2
CHAINS: Final = 4
PYTHON: Final = 8
GO: Final = 16

BUILTINS: Final[dict[str, int]] = {
    "auto": INDENT | EXCEPTION | CHAINS | PYTHON | GO,
    "java": INDENT | EXCEPTION | CHAINS,
    "python": INDENT | EXCEPTION | PYTHON,
    "go": INDENT | GO,
    "dotnet": INDENT | EXCEPTION | CHAINS,
    "node": INDENT | EXCEPTION,
    "indent": INDENT,
    "none": 0,
}

# Trace state of a pending event, kept with it (and in its serialised state).
NO_TRACE: Final = 0
PY_OPEN: Final = 1  # after "Traceback ...": frames until the final exception line
PY_DONE: Final = 2  # after the final line: a chain phrase may follow
PY_CHAIN: Final = 3  # after a chain phrase: the next "Traceback ..." continues
GO_TRACE: Final = 4  # inside a Go panic or fatal error
TRACE_STATES: Final = 5

_TRACEBACK: Final = "Traceback (most recent call last):"
_PY_CHAIN: Final = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
_CHAIN_CONTINUATIONS: Final = ("Caused by: ", "Suppressed: ", "Wrapped by: ", "--- End of ")
_GO_STARTS: Final = ("panic: ", "fatal error: ", "goroutine ")
_GO_LINES: Final = (
    "goroutine ",
    "created by ",
    "[signal ",
    "panic: ",
    "fatal error: ",
    "exit status ",
    "...additional frames elided...",
    "runtime stack:",
)
# A dotted identifier ending in Exception/Error/Throwable, then ":" or the end: Java, .NET, Node.
_EXCEPTION_LINE: Final = re.compile(
    r"(?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*(?:Exception|Error|Throwable)(?::|$)"
)
# Python's final line: any (dotted) exception name, then ":" or the end ("KeyboardInterrupt").
_PY_FINAL: Final = re.compile(r"[A-Za-z_][\w.]*(?::|$)")
_HEADER_FIRST: Final = frozenset("0123456789[{<(")
# The one-line event an exception line or a traceback joins: a logger's error or warning header.
_ERRORISH: Final = re.compile(r"(?i)err|fail|fatal|crit|severe|warn|exception|panic|alert|emerg")


def _go_function_line(text: str) -> bool:
    """``main.main()``, ``net/http.(*conn).serve(0xc0001, {0x2, 0x3})``: no blank before the call."""
    paren = text.find("(")
    return paren > 0 and text.endswith(")") and text.find(" ", 0, paren) < 0


def _opens(features: int, text: str) -> int:
    """The trace state an event starting with ``text`` begins in."""
    if features & PYTHON and text.startswith(_TRACEBACK):
        return PY_OPEN
    if features & GO and text.startswith(_GO_STARTS):
        return GO_TRACE
    return NO_TRACE


def classify(features: int, text: str, count: int, state: int, first: str) -> tuple[int, int]:
    """``(decision, trace state)`` for ``text`` when ``count`` lines in ``state`` are pending.

    ``first`` is the pending event's first line (``""`` when nothing is pending).
    """
    if features == 0:
        return ALONE, NO_TRACE
    if count == 0:
        if not text or text[0] in _HEADER_FIRST:
            return START, NO_TRACE
        return START, _opens(features, text)
    if not text:
        return CONTINUE, state
    lead = text[0]
    if lead == " " or lead == "\t":
        if features & INDENT or state != NO_TRACE:
            return CONTINUE, state
        return START, NO_TRACE
    if state == PY_OPEN:
        if _PY_FINAL.match(text) is not None:
            return CONTINUE, PY_DONE
        return START, _opens(features, text)
    if state == PY_DONE:
        if text.startswith(_PY_CHAIN):
            return CONTINUE, PY_CHAIN
        return START, _opens(features, text)
    if state == PY_CHAIN:
        if text.startswith(_TRACEBACK):
            return CONTINUE, PY_OPEN
        return START, _opens(features, text)
    if state == GO_TRACE:
        if text.startswith(_GO_LINES) or _go_function_line(text):
            return CONTINUE, GO_TRACE
        return START, _opens(features, text)
    if lead in _HEADER_FIRST:
        return START, NO_TRACE
    if features & CHAINS and text.startswith(_CHAIN_CONTINUATIONS):
        return CONTINUE, NO_TRACE
    if features & PYTHON and text.startswith(_TRACEBACK):
        return (CONTINUE if count == 1 and _ERRORISH.search(first) is not None else START), PY_OPEN
    if features & GO and text.startswith(_GO_STARTS):
        return START, GO_TRACE
    if (
        features & EXCEPTION
        and count == 1
        and _EXCEPTION_LINE.match(text) is not None
        and _ERRORISH.search(first) is not None
        and _EXCEPTION_LINE.match(first) is None  # two exceptions in a row are two events
    ):
        return CONTINUE, NO_TRACE
    return START, NO_TRACE
