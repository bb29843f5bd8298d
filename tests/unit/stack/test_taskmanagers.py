"""Several TaskManagers on one host: their ports, files, -D settings and --only names, and the
Prometheus reporter every Flink process runs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from deploy.stack import configs, processes, taskmanagers
from deploy.stack.cli import metrics_endpoints
from deploy.stack.errors import StackError
from deploy.stack.layout import StackLayout
from deploy.stack.orchestrator import context_from_env, down, known_taskmanagers, select, status
from deploy.stack.ports import StackPorts, TaskManagerPorts
from deploy.stack.services import pyflink_home, taskmanager_service
from deploy.stack.tuning import StackTuning


def test_each_taskmanager_has_its_own_deterministic_ports() -> None:
    ports = StackPorts.from_env({})
    assert ports.flink_metrics == 9249
    assert ports.taskmanager(1) == TaskManagerPorts(rpc=6130, data=6160, metrics=9250)
    assert ports.taskmanager(2) == TaskManagerPorts(rpc=6131, data=6161, metrics=9251)
    with pytest.raises(ValueError):
        ports.taskmanager(0)


def test_port_bases_are_configurable() -> None:
    ports = StackPorts.from_env(
        {
            "LOGFLOW_FLINK_METRICS_PORT": "19249",
            "LOGFLOW_FLINK_TM_RPC_PORT": "16130",
            "LOGFLOW_FLINK_TM_DATA_PORT": "16160",
        }
    )
    assert ports.taskmanager(3) == TaskManagerPorts(rpc=16132, data=16162, metrics=19252)


@pytest.mark.parametrize("value", ["x", "0", "70000", "-1"])
def test_a_bad_base_port_names_its_variable(value: str) -> None:
    with pytest.raises(StackError, match="LOGFLOW_FLINK_METRICS_PORT"):
        StackPorts.from_env({"LOGFLOW_FLINK_METRICS_PORT": value})


def test_defaults_leave_room_for_many_taskmanagers() -> None:
    StackPorts().check_distinct(20)


def test_overlapping_ranges_fail_before_anything_starts() -> None:
    # TaskManager 2's RPC port would be TaskManager 1's data port.
    ports = StackPorts.from_env({"LOGFLOW_FLINK_TM_RPC_PORT": "6159"})
    ports.check_distinct(1)
    with pytest.raises(StackError, match=r"flink-taskmanager-2 rpc and flink-taskmanager-1 data .* 6160"):
        ports.check_distinct(2)
    # A TaskManager's metrics port must not land on a fixed service's port.
    with pytest.raises(StackError, match=r"flink-taskmanager-1 metrics and elasticsearch .* 9200"):
        StackPorts(flink_metrics=9199).check_distinct(1)


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_taskmanager_count_must_be_positive(value: str) -> None:
    assert StackTuning.from_env({}).taskmanagers == 1
    assert StackTuning.from_env({"LOGFLOW_TASKMANAGERS": "3"}).taskmanagers == 3
    with pytest.raises(StackError, match="LOGFLOW_TASKMANAGERS"):
        StackTuning.from_env({"LOGFLOW_TASKMANAGERS": value})


def test_the_prometheus_reporter_is_configured_for_the_jobmanager(tmp_path: Path) -> None:
    overrides = configs.flink_overrides(
        StackPorts(flink_metrics=19249), tmp_path, Path("/py"), "4096m", "1024m", slots=4
    )
    merged = configs.merge_dotted({}, overrides)
    assert merged["metrics"]["reporter"]["prom"] == {
        "factory": {"class": "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"},
        "port": "19249",
    }


def test_the_reporter_plugin_ships_in_the_wheel() -> None:
    jars = list((pyflink_home() / "plugins" / "metrics-prometheus").glob("flink-metrics-prometheus-*.jar"))
    assert len(jars) == 1
    factory = configs.PROMETHEUS_REPORTER_FACTORY.replace(".", "/") + ".class"
    assert factory in zipfile.ZipFile(jars[0]).namelist()


def test_dynamic_properties_set_each_taskmanager_apart(tmp_path: Path) -> None:
    ports = StackPorts()
    second = configs.taskmanager_dynamic_properties(
        ports, 2, "logflow_tm2_abc", tmp_path / "t", tmp_path / "w"
    )
    assert second == {
        "taskmanager.resource-id": "logflow_tm2_abc",
        "taskmanager.rpc.port": "6131",
        "taskmanager.data.port": "6161",
        "metrics.reporter.prom.port": "9251",
        "io.tmp.dirs": str(tmp_path / "t"),
        "process.taskmanager.working-dir": str(tmp_path / "w"),
    }


def test_each_taskmanager_has_its_own_files(tmp_path: Path) -> None:
    layout = StackLayout(tmp_path)
    assert taskmanagers.pid_file(layout, 2) == tmp_path / "run" / "flink-taskmanager-2.pid"
    assert taskmanagers.id_file(layout, 2) == tmp_path / "run" / "flink-taskmanager-2.id"
    assert taskmanagers.log_file(layout, 2) == tmp_path / "logs" / "flink-taskmanager-2.log"
    assert taskmanagers.flink_log_dir(layout, 2) == tmp_path / "logs" / "flink" / "taskmanager-2"
    dirs = {taskmanagers.tmp_dir(layout, i) for i in (1, 2)} | {
        taskmanagers.working_dir(layout, i) for i in (1, 2)
    }
    assert len(dirs) == 4
    service = taskmanager_service(2)
    assert service.name == "flink-taskmanager-2"
    assert service.pid_file(layout) == tmp_path / "run" / "flink-taskmanager-2.pid"
    assert service.port(StackPorts()) == 6131
    assert service.extra_ports(StackPorts()) == (6161, 9251)


def test_a_taskmanager_started_under_the_single_names_is_taskmanager_1(tmp_path: Path) -> None:
    layout = StackLayout(tmp_path)
    assert taskmanagers.indices_on_disk(layout) == set()
    processes.write_pid(layout.pid_file("flink-taskmanager"), 4242)
    assert taskmanagers.pid_file(layout, 1) == tmp_path / "run" / "flink-taskmanager.pid"
    assert taskmanagers.id_file(layout, 1) == tmp_path / "run" / "flink-taskmanager.id"
    assert taskmanagers.pid(layout, 1) == 4242
    assert taskmanagers.indices_on_disk(layout) == {1}
    # Once TaskManager 1 has started under the numbered names, those win.
    processes.write_pid(layout.pid_file("flink-taskmanager-1"), 4343)
    assert taskmanagers.pid(layout, 1) == 4343
    assert taskmanagers.id_file(layout, 1) == tmp_path / "run" / "flink-taskmanager-1.id"
    assert taskmanagers.pid(layout, 2) is None


def test_only_knows_every_taskmanager_and_the_old_name_as_alias() -> None:
    assert [s.name for s in select(["flink-taskmanager"], range(1, 3))] == [
        "flink-taskmanager-1",
        "flink-taskmanager-2",
    ]
    assert [s.name for s in select(["flink"], range(1, 3))] == [
        "flink-jobmanager",
        "flink-taskmanager-1",
        "flink-taskmanager-2",
    ]
    assert [s.name for s in select(["flink-taskmanager-2"], range(1, 3))] == ["flink-taskmanager-2"]
    with pytest.raises(StackError, match="unknown service 'flink-taskmanager-3'"):
        select(["flink-taskmanager-3"], range(1, 3))
    everything = [s.name for s in select(None, range(1, 3))]
    assert everything.index("flink-jobmanager") < everything.index("flink-taskmanager-1")
    assert everything.index("flink-taskmanager-2") < everything.index("rules-api")


def test_status_and_down_cover_taskmanagers_no_longer_counted(tmp_path: Path) -> None:
    ctx = context_from_env({"LOGFLOW_HOME": str(tmp_path), "LOGFLOW_TASKMANAGERS": "2"})
    # TaskManager 3 was started when LOGFLOW_TASKMANAGERS was 3; its pid is long gone.
    processes.write_pid(ctx.layout.pid_file("flink-taskmanager-3"), 2**22 + 1)
    assert known_taskmanagers(ctx) == {1, 2, 3}
    states = {s.name: s for s in status(ctx, ["flink-taskmanager"])}
    assert sorted(states) == ["flink-taskmanager-1", "flink-taskmanager-2", "flink-taskmanager-3"]
    assert not any(s.running for s in states.values())
    stopped = down(ctx, ["flink-taskmanager"])
    assert ("flink-taskmanager-3", 2**22 + 1, False) in stopped
    assert not ctx.layout.pid_file("flink-taskmanager-3").exists()


def test_up_prints_each_flink_process_metrics_endpoint(tmp_path: Path) -> None:
    ctx = context_from_env({"LOGFLOW_HOME": str(tmp_path), "LOGFLOW_FLINK_METRICS_PORT": "19249"})
    names = ["kafka", "flink-jobmanager", "flink-taskmanager-1", "flink-taskmanager-2"]
    assert metrics_endpoints(ctx, names) == [
        ("flink-jobmanager", 19249),
        ("flink-taskmanager-1", 19250),
        ("flink-taskmanager-2", 19251),
    ]


def test_jobs_are_spread_over_the_taskmanagers(tmp_path: Path) -> None:
    overrides = configs.flink_overrides(StackPorts(), tmp_path, Path("/py"), "4096m", "1024m", slots=4)
    assert configs.merge_dotted({}, overrides)["taskmanager"]["load-balance"]["mode"] == "SLOTS"
