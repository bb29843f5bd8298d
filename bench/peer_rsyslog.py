"""rsyslog for bench_peer.py: Debian's packages, a config rendered per run, one private rsyslogd.

The rsyslogd started here is not the system's syslog: its own config (``-f``), pid file (``-i``) and
work directory, in the foreground (``-n``), reading only Kafka; it is stopped by its pid.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PEER_DIR = Path(__file__).resolve().parent / "peer"
CONFIG_TEMPLATE = PEER_DIR / "rsyslog.conf.in"
RULEBASE = PEER_DIR / "syslog.rulebase"

# Debian ships imkafka/omkafka in rsyslog-kafka, omelasticsearch in rsyslog-elasticsearch, and
# mmnormalize (with liblognorm) in rsyslog itself; lognormalizer (liblognorm-utils) checks a rulebase.
PACKAGES = ("rsyslog", "rsyslog-kafka", "rsyslog-elasticsearch", "liblognorm-utils")
MODULES = ("imkafka.so", "mmnormalize.so", "omelasticsearch.so")
MODULE_DIRS = (Path("/usr/lib/x86_64-linux-gnu/rsyslog"), Path("/usr/lib/aarch64-linux-gnu/rsyslog"))

_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def render(template: str, values: dict[str, str]) -> str:
    """Fill ``@NAME@`` placeholders; a placeholder without a value, or a value without a
    placeholder, is an error (rsyslog's own syntax uses ``$`` and braces, hence not str.format)."""
    names = set(_PLACEHOLDER.findall(template))
    missing, unused = names - values.keys(), values.keys() - names
    if missing or unused:
        raise ValueError(f"config template: missing {sorted(missing)}, unused {sorted(unused)}")
    for name, value in values.items():
        if '"' in value and name != "ES_AUTH":
            raise ValueError(f"{name} must not contain a double quote: {value!r}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


@dataclass(frozen=True)
class RsyslogSettings:
    topic: str
    brokers: str
    consumer_group: str
    index_prefix: str
    es_url: str
    es_major: int
    work_dir: Path
    es_username: str = ""
    es_password: str = ""
    workers: int = 2  # logflow's job runs at parallelism 2
    bulk_docs: int = 1000  # logflow's LOGFLOW_ES_BULK_DOCS
    queue_size: int = 100_000
    # A bulk waits this long for ``bulk_docs`` messages: logflow's LOGFLOW_BATCH_MS.
    batch_ms: int = 100


def config_text(settings: RsyslogSettings, template: str | None = None) -> str:
    url = urlsplit(settings.es_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"Elasticsearch URL must be http(s)://host[:port], got {settings.es_url!r}")
    auth = ""
    if settings.es_username:
        auth = f'uid="{_quoted(settings.es_username)}" pwd="{_quoted(settings.es_password)}"'
    values = {
        "WORK_DIR": str(settings.work_dir),
        "INDEX_PREFIX": settings.index_prefix,
        "TOPIC": settings.topic,
        "BROKERS": settings.brokers,
        "CONSUMER_GROUP": settings.consumer_group,
        "QUEUE_SIZE": str(settings.queue_size),
        "BULK_DOCS": str(settings.bulk_docs),
        "BATCH_MS": str(settings.batch_ms),
        "WORKERS": str(settings.workers),
        "RULEBASE": str(settings.work_dir / RULEBASE.name),
        "ES_HOST": url.hostname,
        "ES_PORT": str(url.port or (443 if url.scheme == "https" else 9200)),
        "ES_HTTPS": "on" if url.scheme == "https" else "off",
        "ES_AUTH": auth,
        "ES_MAJOR": str(settings.es_major),
    }
    return render(template if template is not None else CONFIG_TEMPLATE.read_text(), values)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def module_dir() -> Path | None:
    for directory in MODULE_DIRS:
        if all((directory / module).exists() for module in MODULES):
            return directory
    return None


def ensure_installed() -> None:
    """Install Debian's rsyslog packages when a module is missing (as root), else say what to run."""
    if shutil.which("rsyslogd") and module_dir() is not None:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    if os.geteuid() != 0:
        raise SystemExit(
            "rsyslog's Kafka, mmnormalize and Elasticsearch modules are not installed; as root run:\n"
            f"  apt-get update && {' '.join(command)}"
        )
    print(f"installing {' '.join(PACKAGES)} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(command, check=True, env=env)
    if module_dir() is None:
        raise SystemExit(
            f"apt-get installed {' '.join(PACKAGES)}, but {', '.join(MODULES)} are still missing"
        )


class Rsyslogd:
    """One private rsyslogd; ``stop`` ends it (and only it) by its pid."""

    def __init__(self, settings: RsyslogSettings) -> None:
        self.settings = settings
        self.work_dir = settings.work_dir
        self.config = self.work_dir / "rsyslog.conf"
        self.pid_file = self.work_dir / "rsyslogd.pid"
        self.log = self.work_dir / "rsyslogd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def prepare(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(RULEBASE, self.work_dir / RULEBASE.name)
        self.config.write_text(config_text(self.settings))
        check = subprocess.run(
            ["rsyslogd", "-N1", "-f", str(self.config)], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"rsyslogd -N1 rejected {self.config}:\n{check.stdout}{check.stderr}")

    def start(self) -> int:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["rsyslogd", "-n", "-f", str(self.config), "-i", str(self.pid_file)],
                # UTC: the daily index name comes from the receive time, as logflow's from Kafka's (UTC).
                env={**os.environ, "TZ": "UTC"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def errors(self) -> str:
        """What rsyslogd logged and Elasticsearch refused, for a failed run's message."""
        parts = []
        for path in (self.log, self.work_dir / "es-errors.json"):
            if path.exists():
                parts.append(f"{path}:\n{path.read_text(errors='replace')[-2000:]}")
        return "\n".join(parts)


def wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.1)
    return False
