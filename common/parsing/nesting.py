"""Folding a wrapped line's record into its wrapper's (syslog, journald, CRI): the payload's fields win."""

from __future__ import annotations

from typing import Any


def merge_payload(outer: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    """Fold a parsed payload into its syslog, journald or CRI envelope; ``labels.envelope`` names it."""
    envelope = outer["event"]["dataset"]
    for key, value in inner.items():
        if key == "@timestamp":
            if value is not None:
                outer[key] = value
        elif isinstance(value, dict) and isinstance(outer.get(key), dict):
            _deep_update(outer[key], value)
        else:
            outer[key] = value
    outer.setdefault("labels", {})["envelope"] = envelope
    return outer


def _deep_update(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value
