"""Downloads through Maven into ``LOGFLOW_HOME/cache``, and the Java/Maven prerequisites.

Each fetch is skipped when its result is already in the cache (a marker file records the pom it came
from), which is what makes the second ``stack up`` take seconds.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from .errors import StackError
from .layout import StackLayout, maven_pom

MIN_JAVA = 17


def java_major(version_output: str) -> int | None:
    """The major version from `java -version` output (handles 1.8-style and 17-style strings)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def require_java() -> str:
    java = shutil.which("java")
    fix = "install it with `apt-get install -y openjdk-17-jre-headless` (or run `make setup`)"
    if java is None:
        raise StackError(f"Java not found on PATH: {fix}")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    major = java_major(out.stderr + out.stdout)
    if major is None or major < MIN_JAVA:
        raise StackError(f"Java {MIN_JAVA}+ is required but `java -version` reports {major}: {fix}")
    return java


def _require_maven() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "Maven not found on PATH: install it with `apt-get install -y maven` (or `make setup`)"
        )
    return mvn


def _pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()[:16]


def _maven_copy(layout: StackLayout, what: str, pom_name: str, output: Path) -> None:
    """Run `mvn dependency:copy-dependencies` for one pom unless its output is already current."""
    pom = maven_pom(pom_name)
    marker = output / ".logflow-pom"
    digest = _pom_digest(pom)
    if marker.exists() and marker.read_text().strip() == digest:
        return
    mvn = _require_maven()
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    log = layout.log_file(f"download-{pom_name}")
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"downloading {what} with Maven (once; cached in {output}) ...", flush=True)
    with open(log, "wb") as out:
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={output}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if result.returncode != 0:
        raise StackError(
            f"downloading {what} with Maven failed (see {log}): check network access to Maven Central "
            "and ~/.m2/settings.xml, then run `logflow stack up` again"
        )
    marker.write_text(digest + "\n")


def ensure_kafka(layout: StackLayout) -> Path:
    _maven_copy(layout, "Kafka", "kafka", layout.kafka_jars)
    return layout.kafka_jars


def ensure_connector(layout: StackLayout) -> Path:
    """The Flink Kafka connector under its contracted stable name, whatever its version."""
    staging = layout.cache / "flink-connector"
    _maven_copy(layout, "the Flink Kafka connector", "flink-connector", staging)
    jars = sorted(staging.glob("flink-sql-connector-kafka-*.jar"))
    if not jars:
        raise StackError(f"no flink-sql-connector-kafka jar in {staging}: delete that folder and retry")
    layout.jars.mkdir(parents=True, exist_ok=True)
    target = layout.connector_jar
    if not target.exists() or target.stat().st_size != jars[-1].stat().st_size:
        shutil.copyfile(jars[-1], target)
    return target


def ensure_elasticsearch(layout: StackLayout) -> Path:
    """The unpacked Elasticsearch distribution (its home directory)."""
    zips_dir = layout.cache / "elasticsearch-zip"
    _maven_copy(layout, "Elasticsearch (about 100 MB)", "elasticsearch", zips_dir)
    zips = sorted(zips_dir.glob("elasticsearch-*.zip"))
    if not zips:
        raise StackError(f"no Elasticsearch zip in {zips_dir}: delete that folder and retry")
    archive = zips[-1]
    home = layout.elasticsearch_dist / archive.stem
    marker = home / ".logflow-unpacked"
    if marker.exists():
        return home
    if layout.elasticsearch_dist.exists():
        shutil.rmtree(layout.elasticsearch_dist)
    layout.elasticsearch_dist.mkdir(parents=True)
    _unzip_with_modes(archive, layout.elasticsearch_dist)
    if not (home / "bin" / "elasticsearch").exists():
        raise StackError(f"{archive} did not unpack to {home}: delete {zips_dir} and retry")
    marker.write_text(archive.name + "\n")
    return home


def _unzip_with_modes(archive: Path, target: Path) -> None:
    """Unzip keeping the executable bits (zipfile alone drops them, and bin/ must stay runnable)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            extracted = Path(zf.extract(info, target))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                extracted.chmod(mode | 0o444 | (0o111 if extracted.is_dir() else 0))
            elif extracted.is_dir():
                extracted.chmod(0o755)
