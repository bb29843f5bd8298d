"""Submitting the log pipeline to a running Flink cluster with the `flink` CLI of the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from common.settings import REPO_ROOT, flink_rest_url, logflow_home

JOB_SCRIPT = REPO_ROOT / "jobs" / "log_pipeline.py"


class SubmitError(Exception):
    pass


def flink_conf_dir() -> Path:
    """The cluster's configuration: FLINK_CONF_DIR, or the one `logflow stack up` writes."""
    return Path(os.environ.get("FLINK_CONF_DIR", "") or logflow_home() / "flink" / "conf")


@dataclass(frozen=True)
class SubmitPaths:
    flink_bin: Path
    conf_dir: Path
    connector_jar: Path
    python: Path

    @classmethod
    def discover(cls) -> SubmitPaths:
        import pyflink

        home = logflow_home()
        flink_bin = Path(pyflink.__file__).resolve().parent / "bin" / "flink"
        conf_dir = flink_conf_dir()
        jar = Path(
            os.environ.get("LOGFLOW_KAFKA_CONNECTOR_JAR", "")
            or home / "cache" / "jars" / "flink-sql-connector-kafka.jar"
        )
        return cls(flink_bin=flink_bin, conf_dir=conf_dir, connector_jar=jar, python=Path(sys.executable))

    def check(self) -> None:
        if not self.connector_jar.is_file():
            raise SubmitError(
                f"Kafka connector jar not found at {self.connector_jar}: run `make setup` "
                "(or `logflow stack up`), or point LOGFLOW_KAFKA_CONNECTOR_JAR at it"
            )
        if not (self.conf_dir / "config.yaml").is_file():
            raise SubmitError(
                f"no Flink configuration in {self.conf_dir}: run `logflow stack up` or set FLINK_CONF_DIR"
            )


def flink_run_command(
    paths: SubmitPaths,
    rest_url: str,
    from_savepoint: str | None = None,
    script: Path = JOB_SCRIPT,
    program_args: Sequence[str] = (),
) -> list[str]:
    """The `flink run` command line; ``script`` and ``program_args`` let a benchmark submit its own
    minimal program with the same connector jar and interpreters as the job."""
    rest = urlparse(rest_url)
    command = [
        str(paths.flink_bin),
        "run",
        "--detached",
        f"-Drest.address={rest.hostname or '127.0.0.1'}",
        f"-Drest.port={rest.port or 8081}",
        "--jarfile",
        str(paths.connector_jar),
        "--python",
        str(script),
        # The same interpreter runs the client that builds the graph and the TaskManager's workers,
        # so both import this checkout's `common` and `jobs`.
        "--pyExecutable",
        str(paths.python),
        "--pyClientExecutable",
        str(paths.python),
        *program_args,
    ]
    if from_savepoint:
        command[2:2] = ["--fromSavepoint", from_savepoint]
    return command


def run_flink_submit(
    from_savepoint: str | None = None,
    timeout_s: float = 180.0,
    parallelism: int | None = None,
    script: Path = JOB_SCRIPT,
    program_args: Sequence[str] = (),
) -> str:
    """Run `flink run --detached`; returns its output. Raises SubmitError on failure.

    ``parallelism`` overrides LOGFLOW_PARALLELISM for this submission (the client reads it when it
    builds the graph). ``script`` and ``program_args``: another Python program than the job.
    """
    paths = SubmitPaths.discover()
    paths.check()
    env = {
        **os.environ,
        "FLINK_CONF_DIR": str(paths.conf_dir),
        "PYFLINK_CLIENT_EXECUTABLE": str(paths.python),
    }
    if parallelism is not None:
        env["LOGFLOW_PARALLELISM"] = str(parallelism)
    command = flink_run_command(paths, flink_rest_url(), from_savepoint, script, program_args)
    try:
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise SubmitError(f"`flink run` did not return within {timeout_s:.0f}s") from None
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-30:])
        raise SubmitError(f"`flink run` failed (exit {result.returncode}):\n{tail}")
    return output
