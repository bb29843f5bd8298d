"""The formats detection knows: one line per module of this package, each declaring ``FORMAT``
(``common/parsing/format.py``). Where a format is tried and in what order is in its entries'
places and priorities; two entries of equal priority in one place go in the order of this list.

Detection (``common/parsing/detect.py``) is generated from this list at build time, so no line pays
for walking it: after adding or changing a format, run ``python -m common.parsing.formats.generate``
(a unit test fails while the checked-in code is stale).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Final

REGISTERED: Final = (
    "generic",  # a leading timestamp, read once; the fallback after any stamp
    "json_lines",
    "syslog",
    "journald",
    "klog",
    "logfmt",
    "access",
    "haproxy",
    "apache_error",
    "nginx_error",
    "jvm_unified",
    "zap_console",
    "cri",
    "log4j",
    "python_logging",
    "logcat",
    "windows_cbs",
    "redis",
)


def modules(names: tuple[str, ...] = REGISTERED) -> list[ModuleType]:
    return [importlib.import_module(f"common.parsing.formats.{name}") for name in names]
