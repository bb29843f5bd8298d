"""Digit strings to ints through a small cache: pids, thread ids, source lines and status codes repeat
from line to line, and ``int(str)`` costs several dict lookups."""

from __future__ import annotations

from typing import Final

_LIMIT: Final = 8192

# Read it directly where it counts: ``INTS.get(text) or to_int(text)`` (0 just takes the slow way).
INTS: dict[str, int] = {}


def to_int(text: str) -> int:
    """``int(text)`` for a string of digits, remembered."""
    number = int(text)
    if len(INTS) >= _LIMIT:
        INTS.clear()
    INTS[text] = number
    return number
