"""What the parsing-side benchmarks share: one pinned CPU and rates in CPU time, not wall time.

On a shared machine wall time mostly measures the neighbours; the CPU time of this thread on one
core measures the code.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def pin_to_one_cpu(cpu: int | None) -> None:
    """Run on ``cpu``, or on the first CPU this process may use when None."""
    if hasattr(os, "sched_setaffinity"):
        allowed = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu if cpu is not None else allowed[0]})


def rate(fn: Callable[[], object], count: int) -> float:
    """``count`` items per CPU-second of this thread, for one call of ``fn``."""
    start = time.thread_time()
    fn()
    return count / (time.thread_time() - start)
