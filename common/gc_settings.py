"""The cyclic garbage collector's trigger, for processes that parse and apply rules in batches.

``LOGFLOW_GC_GEN0``  container allocations between two young-generation collections; default 50000,
                     0 leaves Python's own setting (700).

CPython starts a young-generation collection every 700 net container allocations, and each one
traverses every young container still alive. A batch keeps hundreds of records alive (a few nested
dicts and lists each) until it is written, so at 700 the collector traverses the same batch over
and over: about a tenth of the job's parse-and-rules time (bench/README.md). Records are trees and
find no cycles; collecting less often frees the same garbage, later, for a few MB at most.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping

from common.settings import env_int

DEFAULT_GEN0 = 50_000


def tune_for_batches(environ: Mapping[str, str] | None = None) -> int:
    """Set the young generation's threshold from ``LOGFLOW_GC_GEN0``; returns it (0: unchanged)."""
    threshold = env_int(os.environ if environ is None else environ, "LOGFLOW_GC_GEN0", DEFAULT_GEN0, 0)
    if threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
    return threshold
