"""A private Flink cluster of one JobManager and two TaskManagers started by `logflow stack up`:
both register, each serves its own Prometheus endpoint, and one killed with -9 comes back on `up`.

Own LOGFLOW_HOME and free ports, so the shared stack is never touched.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from common.settings import logflow_home

pytestmark = pytest.mark.integration

FLINK = "flink-jobmanager,flink-taskmanager"


def logflow(*args: str, env: dict[str, str], timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "common.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def free_run(length: int, taken: set[int]) -> int:
    """The first of ``length`` consecutive free ports, none of them already handed out."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            first = int(sock.getsockname()[1])
        run = set(range(first, first + length))
        if first + length < 65536 and not run & taken and all(_bindable(p) for p in run):
            taken.update(run)
            return first


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode("utf-8"))


def wait_for(what: str, check: Callable[[], Any], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what} (last: {last!r})")


@pytest.fixture
def cluster_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    home = tmp_path / "home"
    # The Kafka connector the JobManager's lib links to: reuse the surrounding stack's download
    # when there is one (Maven would otherwise resolve it again).
    connector = logflow_home() / "cache" / "flink-connector"
    if connector.is_dir():
        shutil.copytree(connector, home / "cache" / "flink-connector")
    taken: set[int] = set()
    env = dict(os.environ)
    env.update(
        {
            "LOGFLOW_HOME": str(home),
            "LOGFLOW_FLINK_REST": f"http://127.0.0.1:{free_run(1, taken)}",
            "LOGFLOW_FLINK_RPC_PORT": str(free_run(1, taken)),
            "LOGFLOW_FLINK_METRICS_PORT": str(free_run(3, taken)),
            "LOGFLOW_FLINK_TM_RPC_PORT": str(free_run(2, taken)),
            "LOGFLOW_FLINK_TM_DATA_PORT": str(free_run(2, taken)),
            "LOGFLOW_TASKMANAGERS": "2",
            "LOGFLOW_FLINK_SLOTS": "1",
            # Small enough for a shared 2-core box, large enough for Flink's memory model
            # (512m metaspace, 192m minimum JVM overhead).
            "LOGFLOW_FLINK_TM_MEMORY": "1536m",
            "LOGFLOW_FLINK_JM_MEMORY": "1024m",
            "LOGFLOW_STACK_TIMEOUT": "300",
        }
    )
    try:
        yield env
    finally:
        logflow("stack", "down", "--only", FLINK, env=env, timeout=180)


def _registered(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    listing = json.loads(get(f"{env['LOGFLOW_FLINK_REST']}/taskmanagers"))
    return {tm["id"]: tm for tm in listing["taskmanagers"]}


def _resource_id(home: Path, index: int) -> str:
    return (home / "run" / f"flink-taskmanager-{index}.id").read_text().strip()


def _pid(home: Path, index: int) -> int:
    return int((home / "run" / f"flink-taskmanager-{index}.pid").read_text().strip())


def _scrape(port: int) -> str:
    return get(f"http://127.0.0.1:{port}/metrics")


@pytest.mark.stack_services()
def test_two_taskmanagers_with_metrics_and_one_restarted_after_kill_9(cluster_env: dict[str, str]) -> None:
    env = cluster_env
    home = Path(env["LOGFLOW_HOME"])
    metrics = int(env["LOGFLOW_FLINK_METRICS_PORT"])
    tm_rpc, tm_data = int(env["LOGFLOW_FLINK_TM_RPC_PORT"]), int(env["LOGFLOW_FLINK_TM_DATA_PORT"])

    started = logflow("stack", "up", "--only", FLINK, env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    for name, port in (
        ("flink-jobmanager", metrics),
        ("flink-taskmanager-1", metrics + 1),
        ("flink-taskmanager-2", metrics + 2),
    ):
        assert f"Prometheus metrics of {name}: http://127.0.0.1:{port}/metrics" in started.stdout

    # Both registered under the resource ids they were started with, on their own ports.
    registered = _registered(env)
    first, second = _resource_id(home, 1), _resource_id(home, 2)
    assert {first, second} <= set(registered)
    for index, resource_id in ((1, first), (2, second)):
        assert f"127.0.0.1:{tm_rpc + index - 1}/" in registered[resource_id]["path"]
        assert registered[resource_id]["dataPort"] == tm_data + index - 1
        assert registered[resource_id]["slotsNumber"] == 1

    # Each process answers on its own port with its own Prometheus text.
    jobmanager = wait_for("the JobManager's metrics", lambda: _scrape(metrics), 60)
    assert "# TYPE flink_jobmanager_numRegisteredTaskManagers gauge" in jobmanager
    assert re.search(r"^flink_jobmanager_numRegisteredTaskManagers\{[^}]*\} 2\.0$", jobmanager, re.M)
    for index, resource_id in ((1, first), (2, second)):
        text = wait_for(f"TaskManager {index}'s metrics", functools.partial(_scrape, metrics + index), 60)
        assert "# TYPE flink_taskmanager_Status_JVM_Memory_Heap_Used gauge" in text
        assert f'tm_id="{resource_id}"' in text

    states = {
        s["name"]: s
        for s in json.loads(logflow("stack", "status", "--only", FLINK, "--json", env=env).stdout)
    }
    assert [states[f"flink-taskmanager-{i}"]["state"] for i in (1, 2)] == ["up", "up"]
    assert states["flink-taskmanager-2"]["pid"] == _pid(home, 2)
    assert states["flink-taskmanager-2"]["port"] == tm_rpc + 1

    # kill -9 of TaskManager 2 alone; TaskManager 1 and the JobManager stay.
    victim, survivor = _pid(home, 2), _pid(home, 1)
    os.kill(victim, signal.SIGKILL)
    wait_for("the killed TaskManager to exit", lambda: not Path(f"/proc/{victim}").exists(), 30)
    crashed = logflow("stack", "status", "--only", "flink-taskmanager", env=env)
    assert crashed.returncode == 3
    assert "flink-taskmanager-2  down" in crashed.stdout, crashed.stdout

    again = logflow("stack", "up", "--only", FLINK, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "flink-jobmanager already running" in again.stdout
    assert "flink-taskmanager-1 already running" in again.stdout
    assert "started flink-taskmanager-2" in again.stdout
    assert _pid(home, 1) == survivor
    replacement = _resource_id(home, 2)
    assert replacement != second
    assert replacement in _registered(env)
    text = wait_for("the new TaskManager 2's metrics", lambda: _scrape(metrics + 2), 60)
    assert f'tm_id="{replacement}"' in text

    pids = {_pid(home, 1), _pid(home, 2), int((home / "run" / "flink-jobmanager.pid").read_text())}
    stopped = logflow("stack", "down", "--only", FLINK, env=env, timeout=180)
    assert stopped.returncode == 0, stopped.stderr
    for name in ("flink-jobmanager", "flink-taskmanager-1", "flink-taskmanager-2"):
        assert f"{name:<20} stopped (pid" in stopped.stdout
        assert not (home / "run" / f"{name}.pid").exists()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or " Z " in Path(f"/proc/{pid}/stat").read_text()
