"""ECS ``labels``: a flat map of string keys to string values, for the keys a format carries that have no
ECS field. Keys keep their spelling except that dots become underscores, so Elasticsearch does not
expand them into objects that could clash (``a`` and ``a.b``); nested JSON keys are joined with ``_``."""

from __future__ import annotations


def label_key(key: str) -> str:
    return key.replace(".", "_") if "." in key else key
