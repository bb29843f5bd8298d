"""The compiled parsers (deploy/native.py): never stale, and byte-for-byte the pure-Python parsers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import common.parsing.api
from common.parsing import ParseOptions, parse_message
from deploy import native

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "deploy" / "samples"
LOGHUB = REPO.parent / "shared" / "corpus" / "loghub"
FIXED_CLOCK = 1_763_800_000.125
EXT_SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))


def test_the_compiled_parsers_match_their_sources() -> None:
    # Python imports an extension before a .py of the same name: a stale build would be tested
    # (and run by the job) in place of the code on disk.
    assert native.staleness() is None, f"{native.staleness()}: run `python -m deploy.native build`"


def test_ci_runs_the_compiled_parsers() -> None:
    # A failed build falls back to pure Python with only a warning from setup; CI (CI=true, set by
    # .ci/run) must notice, or the compiled code would go untested while it is what the job runs.
    if os.environ.get("CI", "").strip().lower() not in {"1", "true", "yes"}:
        pytest.skip("enforced only in CI (CI=true)")
    assert str(common.parsing.api.__file__).endswith(EXT_SUFFIX), "mypyc build failed: see setup output"


def _fake_build(tmp_path: Path) -> Path:
    package = tmp_path / "common" / "parsing"
    (package / "formats").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "api.py").write_text("def parse() -> None: ...\n")
    (package / "formats" / "klog.py").write_text("X = 1\n")
    (package / f"api{EXT_SUFFIX}").write_bytes(b"")
    stamp = {"digest": native.sources_digest(package), "modules": native._module_names(package)}
    (package / native.STAMP_NAME).write_text(json.dumps(stamp))
    return package


def test_a_build_is_fresh_until_a_source_changes(tmp_path: Path) -> None:
    package = _fake_build(tmp_path)
    assert native.staleness(package) is None
    (package / "formats" / "klog.py").write_text("X = 2\n")
    assert native.staleness(package) == "common/parsing changed since it was compiled"


def test_a_new_module_or_a_missing_stamp_makes_a_build_stale(tmp_path: Path) -> None:
    package = _fake_build(tmp_path)
    (package / "extra.py").write_text("")
    assert native.staleness(package) is not None
    (package / native.STAMP_NAME).unlink()
    assert "no readable" in str(native.staleness(package))


def test_clean_leaves_pure_python(tmp_path: Path) -> None:
    package = _fake_build(tmp_path)
    native.clean(package)
    assert native.compiled_modules(package) == []
    assert native.staleness(package) is None
    assert (package / "api.py").exists()


def _corpus_lines() -> list[bytes]:
    lines = [line for line in (SAMPLES / "mixed.log").read_bytes().split(b"\n") if line]
    for path in sorted(LOGHUB.glob("**/*.log")):
        lines.extend(line for line in path.read_bytes().split(b"\n")[:300] if line)
    # The bad-input paths too: cut in half, CRLF, ANSI colour, invalid UTF-8, a stack trace.
    variants: list[bytes] = []
    for line in lines[::7]:
        variants += [
            line[: len(line) // 2],
            line + b"\r",
            b"\x1b[31m" + line + b"\x1b[0m",
            line.replace(b" ", b"\xff", 1),
            line + b"\n\tat a.b.C.d(C.java:1)",
        ]
    return lines + variants


_PURE_PARSE = """
import json, sys
from common.parsing import ParseOptions, parse_message
import common.parsing.api as api
assert api.__file__.endswith(".py"), api.__file__
options = ParseOptions(clock=lambda: {clock!r})
for text in json.load(sys.stdin):
    print(json.dumps(parse_message(text.encode("latin-1"), options), sort_keys=True))
"""


@pytest.mark.skipif(
    not str(common.parsing.api.__file__).endswith(EXT_SUFFIX), reason="common/parsing is not compiled"
)
def test_compiled_and_pure_python_parsers_write_the_same_records(tmp_path: Path) -> None:
    # The sources alone, where no extension module can shadow them.
    shutil.copytree(
        REPO / "common", tmp_path / "common", ignore=shutil.ignore_patterns(f"*{EXT_SUFFIX}", "__pycache__")
    )
    lines = _corpus_lines()
    pure = subprocess.run(
        [sys.executable, "-c", _PURE_PARSE.format(clock=FIXED_CLOCK)],
        input=json.dumps([line.decode("latin-1") for line in lines]).encode(),
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    ).stdout.decode()
    options = ParseOptions(clock=lambda: FIXED_CLOCK)
    compiled = [json.dumps(parse_message(line, options), sort_keys=True) for line in lines]
    assert len(lines) > 1000
    assert pure.splitlines() == compiled
