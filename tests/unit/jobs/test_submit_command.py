"""The `flink run` command line: the job by default, another program (a benchmark's) on request."""

from __future__ import annotations

from pathlib import Path

from jobs.control.submit import JOB_SCRIPT, SubmitPaths, flink_run_command

PATHS = SubmitPaths(
    flink_bin=Path("/opt/flink/bin/flink"),
    conf_dir=Path("/conf"),
    connector_jar=Path("/jars/kafka.jar"),
    python=Path("/venv/bin/python"),
)


def test_the_job_is_submitted_detached_with_the_connector_jar_and_one_interpreter() -> None:
    command = flink_run_command(PATHS, "http://127.0.0.1:8081")
    assert command[:3] == ["/opt/flink/bin/flink", "run", "--detached"]
    assert command[command.index("--python") + 1] == str(JOB_SCRIPT)
    assert command[command.index("--jarfile") + 1] == "/jars/kafka.jar"
    assert command[command.index("--pyExecutable") + 1] == "/venv/bin/python"
    assert command[-2:] == ["--pyClientExecutable", "/venv/bin/python"]


def test_another_program_gets_its_arguments_after_every_flink_option() -> None:
    command = flink_run_command(
        PATHS,
        "http://127.0.0.1:9999",
        script=Path("/repo/bench/minimal_job.py"),
        program_args=["--variant", "a"],
    )
    assert command[command.index("--python") + 1] == "/repo/bench/minimal_job.py"
    assert "-Drest.port=9999" in command
    # Flink's CLI stops at the first token it does not know: the program's own options go last.
    assert command[-4:] == ["--pyClientExecutable", "/venv/bin/python", "--variant", "a"]


def test_a_savepoint_goes_before_the_program() -> None:
    command = flink_run_command(PATHS, "http://127.0.0.1:8081", from_savepoint="file:///sp/1")
    assert command[2:4] == ["--fromSavepoint", "file:///sp/1"]
    assert command.index("--fromSavepoint") < command.index("--python")
