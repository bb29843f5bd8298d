"""The services of the local stack: how each is prepared, launched and probed.

Each ``Service`` knows its port, a marker that identifies its process in /proc (so a recycled pid is
never mistaken for ours), how to build its launch (fetching artifacts and writing config first) and
how to tell it is healthy. The orchestrator drives them in order.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import artifacts, configs, retention, taskmanagers, tokens
from .errors import StackError
from .layout import StackLayout, venv_python
from .netcheck import LOOPBACK, http_json, http_status, port_open, redis_ping
from .ports import StackPorts
from .processes import Launch
from .tuning import StackTuning


@dataclass(frozen=True)
class StackContext:
    layout: StackLayout
    ports: StackPorts
    tuning: StackTuning
    environ: Mapping[str, str]


@dataclass(frozen=True)
class Service:
    name: str
    port: Callable[[StackPorts], int]
    # Environment variable that moves this service's port, named in "port busy" errors.
    port_variable: str
    # Substrings of the process command line, before and after a launcher script exec()s the JVM.
    markers: tuple[str, ...]
    prepare: Callable[[StackContext], Launch]
    healthy: Callable[[StackContext], bool]
    extra_ports: Callable[[StackPorts], tuple[int, ...]] = lambda _ports: ()
    # Where the pid and log files are, when not at the layout's run/<name>.pid and logs/<name>.log.
    pid_path: Callable[[StackLayout], Path] | None = None
    log_path: Callable[[StackLayout], Path] | None = None

    def pid_file(self, layout: StackLayout) -> Path:
        return self.pid_path(layout) if self.pid_path else layout.pid_file(self.name)

    def log_file(self, layout: StackLayout) -> Path:
        return self.log_path(layout) if self.log_path else layout.log_file(self.name)


def _base_env(ctx: StackContext) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "JAVA_HOME", "USER")
    env = {k: v for k, v in ctx.environ.items() if k in keep}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    return env


def _java_home(java: str) -> str:
    return str(Path(os.path.realpath(java)).parent.parent)


# --- Kafka -----------------------------------------------------------------------------------------


def _prepare_kafka(ctx: StackContext) -> Launch:
    java = artifacts.require_java()
    jars = artifacts.ensure_kafka(ctx.layout)
    conf_dir = ctx.layout.conf("kafka")
    data_dir = ctx.layout.data("kafka")
    conf_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    properties = conf_dir / "server.properties"
    properties.write_text(configs.kafka_server_properties(ctx.ports, data_dir))
    log4j = conf_dir / "log4j2.yaml"
    log4j.write_text(configs.KAFKA_LOG4J2_YAML)
    classpath = f"{jars}/*"
    logging = [f"-Dlog4j2.configurationFile={log4j}", f"-Dkafka.logs.dir={ctx.layout.logs / 'kafka'}"]
    if not (data_dir / "meta.properties").exists():
        # Formatting is once per data dir: re-formatting would orphan existing topics.
        result = subprocess.run(
            [
                java,
                *logging,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "--ignore-formatted",
                "-t",
                configs.new_kafka_cluster_id(),
                "-c",
                str(properties),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise StackError(f"formatting Kafka storage in {data_dir} failed: {last[0]}")
    heap = ctx.tuning.kafka_heap
    argv = [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        *logging,
        "-cp",
        classpath,
        "kafka.Kafka",
        str(properties),
    ]
    return Launch(argv, _base_env(ctx), data_dir, ctx.layout.log_file("kafka"))


def _kafka_healthy(ctx: StackContext) -> bool:
    return port_open(ctx.ports.kafka)


# --- Redis -----------------------------------------------------------------------------------------


def _prepare_redis(ctx: StackContext) -> Launch:
    server = shutil.which("redis-server")
    if server is None:
        raise StackError(
            "redis-server not found: install it with `apt-get install -y redis-server` (or `make setup`)"
        )
    conf_dir = ctx.layout.conf("redis")
    data_dir = ctx.layout.data("redis")
    conf_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    conf = conf_dir / "redis.conf"
    conf.write_text(configs.redis_conf(ctx.ports, data_dir))
    return Launch([server, str(conf)], _base_env(ctx), data_dir, ctx.layout.log_file("redis"))


def _redis_healthy(ctx: StackContext) -> bool:
    return redis_ping(ctx.ports.redis)


# --- Elasticsearch ---------------------------------------------------------------------------------


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"could not create the system user {name!r} for Elasticsearch: {result.stderr.strip()}"
        )
    return pwd.getpwnam(name)


def _make_traversable(path: Path) -> None:
    """Let the Elasticsearch user reach LOGFLOW_HOME: search (x) permission only, no listing."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def _prepare_elasticsearch(ctx: StackContext) -> Launch:
    java = artifacts.require_java()
    es_home = artifacts.ensure_elasticsearch(ctx.layout)
    conf_dir = ctx.layout.conf("elasticsearch")
    data_dir = ctx.layout.data("elasticsearch")
    logs_dir = ctx.layout.logs / "elasticsearch"
    tmp_dir = ctx.layout.data("elasticsearch-tmp")
    if not (conf_dir / "jvm.options").exists():
        conf_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(es_home / "config", conf_dir, dirs_exist_ok=True)
    for directory in (data_dir, logs_dir, tmp_dir, conf_dir / "jvm.options.d"):
        directory.mkdir(parents=True, exist_ok=True)
    has_security = (es_home / "modules" / "x-pack-security").is_dir()
    (conf_dir / "elasticsearch.yml").write_text(
        configs.elasticsearch_yml(ctx.ports, data_dir, logs_dir, has_security)
    )
    (conf_dir / "jvm.options.d" / "logflow-heap.options").write_text(
        configs.elasticsearch_heap_options(ctx.tuning.elasticsearch_heap)
    )
    user: str | None = None
    if os.geteuid() == 0:
        # Elasticsearch refuses to run as root.
        account = _ensure_system_user(ctx.tuning.elasticsearch_user)
        user = account.pw_name
        _make_traversable(es_home)
        _make_traversable(conf_dir)
        for directory in (conf_dir, data_dir, logs_dir, tmp_dir):
            _chown_tree(directory, account.pw_uid, account.pw_gid)
    env = _base_env(ctx)
    env.update(
        {
            "ES_PATH_CONF": str(conf_dir),
            "ES_JAVA_HOME": _java_home(java),
            "ES_TMPDIR": str(tmp_dir),
            "HOME": str(data_dir),
        }
    )
    env.pop("JAVA_HOME", None)
    return Launch(
        [str(es_home / "bin" / "elasticsearch")], env, data_dir, ctx.layout.log_file("elasticsearch"), user
    )


def _elasticsearch_healthy(ctx: StackContext) -> bool:
    health = http_json(
        f"http://{LOOPBACK}:{ctx.ports.elasticsearch}/_cluster/health?wait_for_status=yellow&timeout=1s"
    )
    return isinstance(health, dict) and health.get("status") in {"yellow", "green"}


# --- Flink -----------------------------------------------------------------------------------------


def pyflink_home() -> Path:
    spec = importlib.util.find_spec("pyflink")
    if spec is None or spec.origin is None:
        raise StackError("PyFlink is not installed in this Python: run `make setup`")
    return Path(spec.origin).parent


def write_flink_lib(ctx: StackContext) -> Path:
    """<LOGFLOW_HOME>/flink/lib: the wheel's lib jars plus flink-python and the Kafka connector.

    With these on the cluster's own classpath (and parent-first class loading) every job uses the
    classes loaded once at start-up. Shipped with each job instead, they were loaded again per
    submission and a TaskManager died of Metaspace exhaustion after a handful of jobs.
    """
    lib_dir = ctx.layout.flink_lib
    lib_dir.mkdir(parents=True, exist_ok=True)
    home = pyflink_home()
    jars = [*sorted((home / "lib").glob("*.jar")), *sorted((home / "opt").glob("flink-python*.jar"))]
    jars.append(artifacts.ensure_connector(ctx.layout))
    wanted = {jar.name: jar for jar in jars}
    for link in lib_dir.iterdir():
        if link.name not in wanted or link.resolve() != wanted[link.name].resolve():
            link.unlink()
    for name, jar in wanted.items():
        if not (lib_dir / name).exists():
            (lib_dir / name).symlink_to(jar)
    return lib_dir


def write_flink_conf(ctx: StackContext) -> Path:
    """Generate <LOGFLOW_HOME>/flink/conf from the wheel's conf with the stack's overrides."""
    source = pyflink_home() / "conf"
    conf_dir = ctx.layout.flink_conf
    conf_dir.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name != "config.yaml" and item.is_file():
            shutil.copyfile(item, conf_dir / item.name)
    base = yaml.safe_load((source / "config.yaml").read_text()) or {}
    data_dir = ctx.layout.data("flink")
    for sub in ("checkpoints", "savepoints", "tmp", "uploads"):
        (data_dir / sub).mkdir(parents=True, exist_ok=True)
    overrides = configs.flink_overrides(
        ctx.ports,
        data_dir,
        venv_python(),
        taskmanager_process_size=ctx.tuning.flink_taskmanager_memory,
        jobmanager_process_size=ctx.tuning.flink_jobmanager_memory,
        slots=ctx.tuning.flink_slots,
    )
    merged = configs.merge_dotted(base, overrides)
    (conf_dir / "config.yaml").write_text(yaml.safe_dump(merged, sort_keys=True))
    (conf_dir / "masters").write_text(f"{LOOPBACK}:{ctx.ports.flink_rest}\n")
    (conf_dir / "workers").write_text(f"{LOOPBACK}\n")
    return conf_dir


def _flink_env(ctx: StackContext, java: str, log_dir: Path, scripts_pid_dir: Path) -> dict[str, str]:
    env = _base_env(ctx)
    env.update(
        {
            "FLINK_CONF_DIR": str(ctx.layout.flink_conf),
            "FLINK_LIB_DIR": str(ctx.layout.flink_lib),
            "FLINK_LOG_DIR": str(log_dir),
            "FLINK_PID_DIR": str(scripts_pid_dir),
            "JAVA_HOME": _java_home(java),
            # The TaskManager starts Python workers with python.executable; PATH covers helper scripts.
            "PATH": f"{venv_python().parent}:{env['PATH']}",
        }
    )
    return env


def _prepare_jobmanager(ctx: StackContext) -> Launch:
    java = artifacts.require_java()
    write_flink_lib(ctx)
    write_flink_conf(ctx)
    log_dir = ctx.layout.logs / "flink"
    log_dir.mkdir(parents=True, exist_ok=True)
    argv = [str(pyflink_home() / "bin" / "jobmanager.sh"), "start-foreground"]
    env = _flink_env(ctx, java, log_dir, ctx.layout.run / "flink-scripts")
    return Launch(argv, env, ctx.layout.data("flink"), ctx.layout.log_file("flink-jobmanager"))


def _jobmanager_healthy(ctx: StackContext) -> bool:
    return isinstance(http_json(f"http://{LOOPBACK}:{ctx.ports.flink_rest}/overview"), dict)


def _prepare_taskmanager(ctx: StackContext, index: int) -> Launch:
    java = artifacts.require_java()
    write_flink_lib(ctx)
    write_flink_conf(ctx)
    layout = ctx.layout
    log_dir = taskmanagers.flink_log_dir(layout, index)
    tmp_dir = taskmanagers.tmp_dir(layout, index)
    for directory in (log_dir, tmp_dir):
        directory.mkdir(parents=True, exist_ok=True)
    # Each start has a fresh resource id, so the tm_<id> folders of earlier (killed) incarnations
    # are never read again; without this they pile up with every crash.
    for stale in taskmanagers.working_dir(layout, index).glob("tm_*"):
        shutil.rmtree(stale, ignore_errors=True)
    if index == 1:
        # Started under the numbered names from now on; the single-TaskManager files would
        # otherwise keep standing in for it.
        for legacy in taskmanagers.legacy_files(layout):
            legacy.unlink(missing_ok=True)
    # Underscores only: the Prometheus reporter strips other characters from its tm_id label.
    resource_id = f"logflow_tm{index}_{uuid.uuid4().hex[:12]}"
    id_file = taskmanagers.id_file(layout, index)
    id_file.parent.mkdir(parents=True, exist_ok=True)
    id_file.write_text(resource_id + "\n")
    properties = configs.taskmanager_dynamic_properties(
        ctx.ports, index, resource_id, tmp_dir, taskmanagers.working_dir(layout, index)
    )
    argv = [str(pyflink_home() / "bin" / "taskmanager.sh"), "start-foreground"]
    for key, value in properties.items():
        argv += ["-D", f"{key}={value}"]
    env = _flink_env(ctx, java, log_dir, taskmanagers.scripts_pid_dir(layout, index))
    # Names Flink's own log files (flink-<ident>-taskexecutor-...) apart in listings and bug reports.
    env["FLINK_IDENT_STRING"] = taskmanagers.name(index)
    return Launch(argv, env, taskmanagers.working_dir(layout, index), taskmanagers.log_file(layout, index))


def registered_taskmanagers(ctx: StackContext) -> set[str] | None:
    """Resource ids the JobManager lists, None when it does not answer."""
    listing = http_json(f"http://{LOOPBACK}:{ctx.ports.flink_rest}/taskmanagers")
    if not isinstance(listing, dict):
        return None
    return {str(tm.get("id")) for tm in listing.get("taskmanagers", [])}


def _taskmanager_healthy(ctx: StackContext, index: int) -> bool:
    try:
        resource_id = taskmanagers.id_file(ctx.layout, index).read_text().strip()
    except OSError:
        return False
    return resource_id in (registered_taskmanagers(ctx) or set())


TASKMANAGER_MARKERS = ("taskmanager.sh", "flink-console.sh taskexecutor", "TaskManagerRunner")


def taskmanager_service(index: int) -> Service:
    """TaskManager ``index`` (from 1): its own ports, pid, id and log files, same conf and slots."""
    return Service(
        taskmanagers.name(index),
        lambda p: p.taskmanager(index).rpc,
        "LOGFLOW_FLINK_TM_RPC_PORT",
        TASKMANAGER_MARKERS,
        lambda ctx: _prepare_taskmanager(ctx, index),
        lambda ctx: _taskmanager_healthy(ctx, index),
        extra_ports=lambda p: (p.taskmanager(index).data, p.taskmanager(index).metrics),
        pid_path=lambda layout: taskmanagers.pid_file(layout, index),
        log_path=lambda layout: taskmanagers.log_file(layout, index),
    )


# --- rules API -------------------------------------------------------------------------------------


def rules_api_available() -> bool:
    try:
        return importlib.util.find_spec("rules_api.server_cli") is not None
    except ModuleNotFoundError:
        return False


def _prepare_rules_api(ctx: StackContext) -> Launch:
    tokens.ensure_admin_token(ctx.layout)
    env = dict(ctx.environ)
    env["LOGFLOW_API_TOKENS_FILE"] = str(ctx.layout.api_tokens_file)
    env.pop("LOGFLOW_API_TOKENS", None)
    argv = [
        sys.executable,
        "-m",
        "common.cli",
        "api",
        "serve",
        "--host",
        LOOPBACK,
        "--port",
        str(ctx.ports.api),
    ]
    data_dir = ctx.layout.data("rules-api")
    data_dir.mkdir(parents=True, exist_ok=True)
    return Launch(argv, env, data_dir, ctx.layout.log_file("rules-api"))


def _rules_api_healthy(ctx: StackContext) -> bool:
    status = http_status(f"http://{LOOPBACK}:{ctx.ports.api}/healthz")
    return status is not None and status < 500


_BEFORE_TASKMANAGERS: tuple[Service, ...] = (
    Service(
        "elasticsearch",
        lambda p: p.elasticsearch,
        "LOGFLOW_ES_URL",
        ("bin/elasticsearch", "org.elasticsearch"),
        _prepare_elasticsearch,
        _elasticsearch_healthy,
    ),
    Service(
        "redis", lambda p: p.redis, "LOGFLOW_REDIS_URL", ("redis-server",), _prepare_redis, _redis_healthy
    ),
    Service(
        "kafka",
        lambda p: p.kafka,
        "LOGFLOW_KAFKA_BOOTSTRAP",
        ("kafka.Kafka",),
        _prepare_kafka,
        _kafka_healthy,
        extra_ports=lambda p: (p.kafka_controller,),
    ),
    Service(
        "flink-jobmanager",
        lambda p: p.flink_rest,
        "LOGFLOW_FLINK_REST",
        ("jobmanager.sh", "flink-console.sh standalonesession", "StandaloneSessionClusterEntrypoint"),
        _prepare_jobmanager,
        _jobmanager_healthy,
        extra_ports=lambda p: (p.flink_rpc, p.flink_metrics),
    ),
)

_AFTER_TASKMANAGERS: tuple[Service, ...] = (
    Service(
        "rules-api",
        lambda p: p.api,
        "LOGFLOW_API_URL",
        ("api serve",),
        _prepare_rules_api,
        _rules_api_healthy,
    ),
    # No port of its own: reported with Elasticsearch's, the one it talks to.
    Service(
        retention.NAME,
        lambda p: p.elasticsearch,
        "LOGFLOW_ES_URL",
        retention.MARKERS,
        retention.prepare,
        retention.healthy,
    ),
)


def services(taskmanager_indices: Iterable[int] = (1,)) -> tuple[Service, ...]:
    """Every service in start order, with the given TaskManagers between JobManager and API."""
    tms = tuple(taskmanager_service(index) for index in sorted(set(taskmanager_indices)))
    return (*_BEFORE_TASKMANAGERS, *tms, *_AFTER_TASKMANAGERS)


# The single-TaskManager stack, for callers that do not care how many there are.
SERVICES = services()


def aliases(registry: Iterable[Service]) -> dict[str, tuple[str, ...]]:
    """Names accepted by --only besides the service names themselves."""
    tms = tuple(s.name for s in registry if taskmanagers.index_of(s.name) is not None)
    return {
        "flink": ("flink-jobmanager", *tms),
        taskmanagers.ALIAS: tms,
        "es": ("elasticsearch",),
        "api": ("rules-api",),
    }


def by_name(registry: Iterable[Service] = SERVICES) -> dict[str, Service]:
    return {service.name: service for service in registry}
