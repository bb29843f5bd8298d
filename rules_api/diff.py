"""A structural diff between two versions of a rule, stored with each history entry.

Paths use the same ``$.a.b[0]`` notation as the rules core's validation errors, so an operator
reads one notation everywhere.
"""

from __future__ import annotations

from typing import Any

Change = dict[str, Any]


def _child(path: str, key: object) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def diff(old: Any, new: Any, path: str = "$") -> list[Change]:
    """Changes turning ``old`` into ``new``: ``add``/``remove``/``replace`` with the values involved."""
    if old is None and new is None:
        return []
    if old is None:
        return [{"op": "add", "path": path, "value": new}]
    if new is None:
        return [{"op": "remove", "path": path, "old": old}]
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[Change] = []
        for key in old:
            if key not in new:
                changes.append({"op": "remove", "path": _child(path, key), "old": old[key]})
            else:
                changes.extend(diff(old[key], new[key], _child(path, key)))
        for key in new:
            if key not in old:
                changes.append({"op": "add", "path": _child(path, key), "value": new[key]})
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for index in range(max(len(old), len(new))):
            if index >= len(new):
                changes.append({"op": "remove", "path": _child(path, index), "old": old[index]})
            elif index >= len(old):
                changes.append({"op": "add", "path": _child(path, index), "value": new[index]})
            else:
                changes.extend(diff(old[index], new[index], _child(path, index)))
        return changes
    # bool is an int subclass in Python, so compare types too: true -> 1 is a change.
    if type(old) is not type(new) or old != new:
        return [{"op": "replace", "path": path, "old": old, "value": new}]
    return []
