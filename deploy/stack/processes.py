"""Pid files and the lifecycle of the child processes the stack starts.

Every service runs in its own session (process group) whose leader's pid is written to
``run/<service>.pid``. Stopping signals that whole group, so helpers a service forks (Elasticsearch's
server JVM, Flink's Python workers) go with it, and nothing without a pid file of ours is touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text().strip()
    except OSError:
        return None
    first = text.splitlines()[0] if text else ""
    return int(first) if first.isdigit() else None


def write_pid(pid_file: Path, pid: int) -> None:
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = pid_file.with_suffix(".pid.tmp")
    tmp.write_text(f"{pid}\n")
    tmp.replace(pid_file)


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in field 2 may contain spaces and parentheses; the state follows the last ')'.
    return stat.rsplit(")", 1)[-1].split()[0]


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def pid_alive(pid: int, markers: Sequence[str] = ()) -> bool:
    """True when pid runs (not a zombie) and, if markers are given, its command line contains one.

    The marker guards against a recycled pid: after a reboot a stale pid file may name an unrelated
    process, which must be neither reported as ours nor signalled.
    """
    state = _proc_state(pid)
    if state is None or state in {"Z", "X"}:
        return False
    if not markers:
        return True
    line = cmdline(pid)
    return any(marker in line for marker in markers)


@dataclass(frozen=True)
class Launch:
    """How to start one service process."""

    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    log_file: Path
    user: str | None = None


def spawn(launch: Launch) -> int:
    """Start a detached child in a new session, output appended to its log file; returns its pid."""
    launch.log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(launch.log_file, "ab") as log:
        log.write(f"\n==> {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(launch.argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            list(launch.argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=launch.cwd,
            env=dict(launch.env),
            start_new_session=True,
            user=launch.user,
            group=launch.user,
            extra_groups=[] if launch.user else None,
        )
    return process.pid


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
            return
    except ProcessLookupError:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # killpg(0) also succeeds for a group that only holds zombies; those are not running anything.
    return any(
        _proc_state(int(entry.name)) not in {None, "Z", "X"}
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _pgid_of(int(entry.name)) == pgid
    )


def _pgid_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def reap_leftover_group(pgid: int) -> None:
    """Kill what is left of a service's process group after its leader died (e.g. after kill -9).

    Linux never hands out a pid that is still in use as a process-group id, so a live group with this
    id can only be the remains of the session we started.
    """
    if _group_alive(pgid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def stop(pid: int, grace_seconds: float = 30.0) -> bool:
    """TERM the service's process group, wait, then KILL. True if it had to be killed."""
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if not pid_alive(pid) and not _group_alive(pid):
            return False
        time.sleep(0.2)
    _signal_group(pid, signal.SIGKILL)
    end = time.monotonic() + 5
    while time.monotonic() < end and pid_alive(pid):
        time.sleep(0.1)
    return True


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants in KiB (0 when gone)."""
    total = 0
    for member in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[-1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    stack = list(children.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children.get(child, []))
    return found
