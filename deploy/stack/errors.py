"""The one exception type the stack raises for problems a user can fix."""

from __future__ import annotations


class StackError(Exception):
    """A failure the CLI reports as one line naming the fix (no traceback)."""
