"""Where each of the local TaskManagers keeps its files under ``LOGFLOW_HOME``.

TaskManager N (from 1) is the service ``flink-taskmanager-N``: ``run/flink-taskmanager-N.pid`` and
``.id`` (its resource id), ``logs/flink-taskmanager-N.log``, Flink's own logs in
``logs/flink/taskmanager-N/`` and scratch space in ``data/flink/taskmanager-N/``.

A stack started before there could be several has ``run/flink-taskmanager.pid`` and ``.id``; while
``flink-taskmanager-1.pid`` does not exist those files stand for TaskManager 1, so `status`, `down`
and the recovery tests still find a TaskManager that was started under the old names. Its next
start (after a crash or `down`) moves it to the numbered names.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import processes
from .layout import StackLayout

# The service name before numbering, and the --only alias for every TaskManager.
ALIAS = "flink-taskmanager"
_NUMBERED = re.compile(rf"^{ALIAS}-(\d+)$")


def name(index: int) -> str:
    return f"{ALIAS}-{index}"


def index_of(service: str) -> int | None:
    """The TaskManager number of a service name, None for any other service."""
    match = _NUMBERED.match(service)
    return int(match.group(1)) if match else None


def _legacy_in_use(layout: StackLayout, index: int) -> bool:
    return index == 1 and not layout.pid_file(name(1)).exists() and layout.pid_file(ALIAS).exists()


def pid_file(layout: StackLayout, index: int) -> Path:
    return layout.pid_file(ALIAS if _legacy_in_use(layout, index) else name(index))


def id_file(layout: StackLayout, index: int) -> Path:
    """The resource id the TaskManager registered with (``GET /taskmanagers`` lists it)."""
    return layout.run / f"{ALIAS if _legacy_in_use(layout, index) else name(index)}.id"


def log_file(layout: StackLayout, index: int) -> Path:
    return layout.log_file(ALIAS if _legacy_in_use(layout, index) else name(index))


def legacy_files(layout: StackLayout) -> tuple[Path, Path]:
    """The single-TaskManager pid and id files, cleared when TaskManager 1 starts anew."""
    return layout.pid_file(ALIAS), layout.run / f"{ALIAS}.id"


def flink_log_dir(layout: StackLayout, index: int) -> Path:
    return layout.logs / "flink" / f"taskmanager-{index}"


def scripts_pid_dir(layout: StackLayout, index: int) -> Path:
    """FLINK_PID_DIR of flink-console.sh, which numbers log files by the lines of a pid file there."""
    return layout.run / "flink-scripts" / f"taskmanager-{index}"


def working_dir(layout: StackLayout, index: int) -> Path:
    return layout.data("flink") / f"taskmanager-{index}"


def tmp_dir(layout: StackLayout, index: int) -> Path:
    return working_dir(layout, index) / "tmp"


def indices_on_disk(layout: StackLayout) -> set[int]:
    """TaskManagers that have a pid file, whether or not LOGFLOW_TASKMANAGERS still counts them."""
    found = {
        index for path in layout.run.glob(f"{ALIAS}-*.pid") if (index := index_of(path.stem)) is not None
    }
    if layout.pid_file(ALIAS).exists():
        found.add(1)
    return found


def pid(layout: StackLayout, index: int = 1) -> int | None:
    """The pid in TaskManager ``index``'s pid file (e.g. for a test that kills it), None if none."""
    return processes.read_pid(pid_file(layout, index))
