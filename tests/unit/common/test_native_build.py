"""The compiled parsers and rule engine (deploy/native.py): never stale, and the same results as pure Python."""

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
import common.rules.engine
from common.parsing import ParseOptions, parse_message
from deploy import native

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "deploy" / "samples"
LOGHUB = REPO / "tests" / "data" / "loghub"
SHIPPERS = REPO / "tests" / "fixtures" / "shippers"
FIXED_CLOCK = 1_763_800_000.125
EXT_SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))


def test_the_compiled_modules_match_their_sources() -> None:
    # Python imports an extension before a .py of the same name: a stale build would be tested
    # (and run by the job) in place of the code on disk.
    assert native.staleness() is None, f"{native.staleness()}: run `python -m deploy.native build`"


def test_the_modules_that_run_are_the_ones_built() -> None:
    # A build in this checkout that is not what gets imported (the modules come from another copy
    # on sys.path, say) would leave the compiled code untested while the job runs it. In CI (CI=true, set by .ci/run) a build must also exist: a failed build falls back
    # to pure Python with only a warning from setup, and CI must notice.
    built = native.compiled_modules()
    running = [m for m in (common.parsing.api, common.rules.engine) if str(m.__file__).endswith(EXT_SUFFIX)]
    if built:
        assert running == [common.parsing.api, common.rules.engine], f"built {built}, running {running}"
    else:
        assert running == [], f"running {running} without a build"
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        assert built, "mypyc build failed: see setup output"


def _fake_build(tmp_path: Path) -> Path:
    root = tmp_path / "common"
    parsing, rules = root / "parsing", root / "rules"
    (parsing / "formats").mkdir(parents=True)
    rules.mkdir()
    (parsing / "__init__.py").write_text("")
    (parsing / "api.py").write_text("def parse() -> None: ...\n")
    (parsing / "formats" / "klog.py").write_text("X = 1\n")
    (rules / "engine.py").write_text("Y = 1\n")
    (rules / "validate.py").write_text("Z = 1\n")
    (parsing / f"api{EXT_SUFFIX}").write_bytes(b"")
    (rules / f"engine{EXT_SUFFIX}").write_bytes(b"")
    stamp = {"digest": native.sources_digest(root), "modules": native._module_names(root)}
    (root / native.STAMP_NAME).write_text(json.dumps(stamp))
    return root


def test_the_build_takes_every_parser_and_only_the_rules_hot_path(tmp_path: Path) -> None:
    root = _fake_build(tmp_path)
    assert native._module_names(root) == [
        "common/parsing/api.py",
        "common/parsing/formats/klog.py",
        "common/rules/engine.py",
    ]


def test_a_build_is_fresh_until_a_source_changes(tmp_path: Path) -> None:
    root = _fake_build(tmp_path)
    assert native.staleness(root) is None
    (root / "parsing" / "formats" / "klog.py").write_text("X = 2\n")
    assert native.staleness(root) == "common changed since it was compiled"
    root = _fake_build(tmp_path / "again")
    (root / "rules" / "engine.py").write_text("Y = 2\n")
    assert native.staleness(root) == "common changed since it was compiled"


def test_a_module_outside_the_build_does_not_make_it_stale(tmp_path: Path) -> None:
    root = _fake_build(tmp_path)
    (root / "rules" / "validate.py").write_text("Z = 2\n")
    assert native.staleness(root) is None


def test_a_new_module_or_a_missing_stamp_makes_a_build_stale(tmp_path: Path) -> None:
    root = _fake_build(tmp_path)
    (root / "parsing" / "extra.py").write_text("")
    assert native.staleness(root) is not None
    (root / native.STAMP_NAME).unlink()
    assert "no readable" in str(native.staleness(root))


def test_clean_leaves_pure_python(tmp_path: Path) -> None:
    root = _fake_build(tmp_path)
    # What a build from before the rules were compiled left: its stamp inside common/parsing.
    (root / "parsing" / native.STAMP_NAME).write_text("{}")
    native.clean(root)
    assert native.compiled_modules(root) == []
    assert native.staleness(root) is None
    assert not (root / "parsing" / native.STAMP_NAME).exists()
    assert (root / "parsing" / "api.py").exists()
    assert (root / "rules" / "engine.py").exists()


def _corpus_lines() -> list[bytes]:
    lines = [line for line in (SAMPLES / "mixed.log").read_bytes().split(b"\n") if line]
    # Shippers' envelopes and OTLP JSON requests (each one line) take the envelope modules' paths.
    lines.extend(path.read_bytes().rstrip(b"\n") for path in sorted(SHIPPERS.glob("*.json")))
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
    # Whole multi-line messages: stack traces, whose frames and chains error.fingerprint reads.
    traces = [path.read_bytes() for path in sorted((SAMPLES / "multiline").glob("*.log"))]
    return lines + variants + traces


_PURE_PARSE = """
import json, sys
from common.parsing import ParseOptions, parse_message
import common.parsing.api as api
assert api.__file__.endswith(".py"), api.__file__
options = ParseOptions(clock=lambda: {clock!r})
for text in json.load(sys.stdin):
    print(json.dumps(parse_message(text.encode("latin-1"), options), sort_keys=True))
"""


def _sources_only(tmp_path: Path) -> Path:
    """A copy of common/ without extension modules: the sources alone, which nothing can shadow."""
    shutil.copytree(
        REPO / "common", tmp_path / "common", ignore=shutil.ignore_patterns(f"*{EXT_SUFFIX}", "__pycache__")
    )
    return tmp_path


def _run(script: str, lines: list[bytes], cwd: Path, pythonpath: Path) -> list[str]:
    return (
        subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps([line.decode("latin-1") for line in lines]).encode(),
            cwd=cwd,
            env={"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .splitlines()
    )


@pytest.mark.skipif(
    not str(common.parsing.api.__file__).endswith(EXT_SUFFIX), reason="common/parsing is not compiled"
)
def test_compiled_and_pure_python_parsers_write_the_same_records(tmp_path: Path) -> None:
    pure_tree = _sources_only(tmp_path)
    lines = _corpus_lines()
    pure = _run(_PURE_PARSE.format(clock=FIXED_CLOCK), lines, pure_tree, pure_tree)
    options = ParseOptions(clock=lambda: FIXED_CLOCK)
    compiled = [json.dumps(parse_message(line, options), sort_keys=True) for line in lines]
    assert len(lines) > 1000
    assert pure == compiled


# Both fixture rule sets, each over the whole corpus, in batches: every stage of the engine runs
# (literal index, shared first checks, facts, actions, alerts, re-checks of later stages).
_APPLY_RULES = """
import json, sys
from common.parsing import ParseOptions, parse_message
from common.rules import RuleEngine
from common.rules.loading import load_rules_file
import common.rules.engine as engine
assert engine.__file__.endswith({suffix!r}), engine.__file__
options = ParseOptions(clock=lambda: {clock!r})
lines = [text.encode("latin-1") for text in json.load(sys.stdin)]
for path in {rule_files!r}:
    with RuleEngine(clock=lambda: {clock!r}) as rules:
        rules.replace_all(load_rules_file(path))
        for start in range(0, len(lines), 256):
            batch = [parse_message(line, options) for line in lines[start : start + 256]]
            for result in rules.apply_batch(batch):
                print(json.dumps([result.record, result.hits, result.alerts, result.dropped_by], sort_keys=True))
"""
RULE_FIXTURES = REPO / "tests" / "fixtures" / "rules"


@pytest.mark.skipif(
    not str(common.rules.engine.__file__).endswith(EXT_SUFFIX), reason="common/rules is not compiled"
)
def test_compiled_and_pure_python_rules_give_the_same_results(tmp_path: Path) -> None:
    pure_tree = _sources_only(tmp_path)
    lines = _corpus_lines()
    rule_files = [str(RULE_FIXTURES / "hdfs.json"), str(RULE_FIXTURES / "linux.yaml")]
    pure = _run(
        _APPLY_RULES.format(suffix=".py", clock=FIXED_CLOCK, rule_files=rule_files),
        lines,
        pure_tree,
        pure_tree,
    )
    compiled = _run(
        _APPLY_RULES.format(suffix=EXT_SUFFIX, clock=FIXED_CLOCK, rule_files=rule_files), lines, REPO, REPO
    )
    assert len(pure) == 2 * len(lines) > 2000
    assert sum('"rule"' in line for line in compiled) > 100  # the rules did hit
    assert pure == compiled
