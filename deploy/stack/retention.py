"""The stack's ``retention`` service: ``logflow indices prune --every <interval>`` as a process.

It listens on no port; it is healthy once it has finished a run (its status file names its own
pid), and like every service it is stopped through its pid file. The interval is
``LOGFLOW_RETENTION_INTERVAL`` (default ``1h``); retention itself is configured by the
``LOGFLOW_RETENTION_*`` variables it inherits (docs/retention.md).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from .processes import Launch, read_pid

if TYPE_CHECKING:
    from .services import StackContext

NAME = "retention"
MARKERS = ("indices prune",)
DEFAULT_INTERVAL = "1h"


def status_file(ctx: StackContext) -> str:
    return str(ctx.layout.run / f"{NAME}.status.json")


def prepare(ctx: StackContext) -> Launch:
    interval = ctx.environ.get("LOGFLOW_RETENTION_INTERVAL", "").strip() or DEFAULT_INTERVAL
    argv = [
        sys.executable,
        "-m",
        "common.cli",
        "indices",
        "prune",
        "--every",
        interval,
        "--status-file",
        status_file(ctx),
    ]
    data_dir = ctx.layout.data(NAME)
    data_dir.mkdir(parents=True, exist_ok=True)
    return Launch(argv, dict(ctx.environ), data_dir, ctx.layout.log_file(NAME))


def healthy(ctx: StackContext) -> bool:
    """The scheduler that the pid file names has completed at least one run (whatever its outcome:
    a failed run is logged and retried, it does not make the scheduler unhealthy)."""
    pid = read_pid(ctx.layout.pid_file(NAME))
    try:
        with open(status_file(ctx)) as handle:
            status = json.load(handle)
    except (OSError, ValueError):
        return False
    return pid is not None and isinstance(status, dict) and status.get("pid") == pid
