"""`logflow stack` against real processes.

Tests that need the shared local stack only read it (status, an idempotent `up`). Tests that start
and stop things use their own LOGFLOW_HOME and free ports, so they never disturb the shared stack.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.settings import logflow_home

pytestmark = pytest.mark.integration

ALL_CORE = ("kafka", "elasticsearch", "redis", "flink")


def logflow(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "common.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env if env is not None else dict(os.environ),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_files() -> dict[str, int]:
    run = logflow_home() / "run"
    return {path.stem: int(path.read_text().split()[0]) for path in run.glob("*.pid")}


@pytest.mark.stack_services(*ALL_CORE)
def test_status_reports_every_running_service_with_its_pid_and_port() -> None:
    result = logflow("stack", "status", "--json")
    states = {state["name"]: state for state in json.loads(result.stdout)}
    pids = pid_files()
    for name, port in (("kafka", 9092), ("redis", 6379), ("elasticsearch", 9200), ("flink-jobmanager", 8081)):
        if name not in pids:
            pytest.skip(
                f"the stack on these ports was not started from this checkout ({name} has no pid file)"
            )
        assert states[name]["state"] == "up", result.stdout
        assert states[name]["pid"] == pids[name]
        assert states[name]["port"] == port
    table = logflow("stack", "status").stdout
    assert "kafka" in table and "up" in table


@pytest.mark.stack_services(*ALL_CORE)
def test_up_when_already_running_keeps_the_same_processes() -> None:
    before = pid_files()
    if "kafka" not in before:
        pytest.skip("the stack on these ports was not started from this checkout")
    result = logflow("stack", "up")
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout
    assert "started " not in result.stdout
    assert pid_files() == before


@pytest.fixture
def private_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A separate LOGFLOW_HOME with every port moved away from the shared stack."""
    env = dict(os.environ)
    env.update(
        {
            "LOGFLOW_HOME": str(tmp_path / "home"),
            "LOGFLOW_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "LOGFLOW_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
            "LOGFLOW_KAFKA_CONTROLLER_PORT": str(free_port()),
            "LOGFLOW_ES_URL": f"http://127.0.0.1:{free_port()}",
            "LOGFLOW_FLINK_REST": f"http://127.0.0.1:{free_port()}",
            "LOGFLOW_API_URL": f"http://127.0.0.1:{free_port()}",
            "LOGFLOW_STACK_TIMEOUT": "60",
        }
    )
    yield env
    logflow("stack", "down", env=env, timeout=120)


@pytest.mark.stack_services()
def test_a_port_taken_by_a_foreign_process_is_one_clear_line(private_env: dict[str, str]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        private_env["LOGFLOW_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        result = logflow("stack", "up", "--only", "redis", env=private_env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0]
    assert "logflow did not start" in lines[0]
    assert "LOGFLOW_REDIS_URL" in lines[0]
    assert not (Path(private_env["LOGFLOW_HOME"]) / "run" / "redis.pid").exists()


@pytest.mark.stack_services()
def test_single_service_up_down_and_restart_after_a_crash(private_env: dict[str, str]) -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run `make setup`")
    home = Path(private_env["LOGFLOW_HOME"])
    first = logflow("stack", "up", "--only", "redis", env=private_env)
    assert first.returncode == 0, first.stderr
    pid = int((home / "run" / "redis.pid").read_text())
    status = json.loads(logflow("stack", "status", "--only", "redis", "--json", env=private_env).stdout)
    assert status[0]["state"] == "up" and status[0]["pid"] == pid

    again = logflow("stack", "up", "--only", "redis", env=private_env)
    assert again.returncode == 0 and "already running" in again.stdout
    assert int((home / "run" / "redis.pid").read_text()) == pid

    # A crash leaves a stale pid file; the next `up` must start a fresh process.
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    crashed = json.loads(logflow("stack", "status", "--only", "redis", "--json", env=private_env).stdout)
    assert crashed[0]["state"] == "down"
    restarted = logflow("stack", "up", "--only", "redis", env=private_env)
    assert restarted.returncode == 0, restarted.stderr
    new_pid = int((home / "run" / "redis.pid").read_text())
    assert new_pid != pid

    down = logflow("stack", "down", "--only", "redis", env=private_env)
    assert down.returncode == 0 and f"stopped (pid {new_pid}" in down.stdout
    assert not (home / "run" / "redis.pid").exists()
    assert (
        not Path(f"/proc/{new_pid}").exists() or "Z" in Path(f"/proc/{new_pid}/stat").read_text().split()[2]
    )
    after = logflow("stack", "status", "--only", "redis", env=private_env)
    assert after.returncode == 3 and "down" in after.stdout


@pytest.mark.stack_services()
def test_status_of_an_empty_home_is_all_down_and_nonzero(private_env: dict[str, str]) -> None:
    result = logflow("stack", "status", "--json", env=private_env)
    assert result.returncode == 3
    assert {state["state"] for state in json.loads(result.stdout)} == {"down"}
