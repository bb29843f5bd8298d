from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import common.rules.engine

REPO = Path(__file__).resolve().parents[3]
# Compiled (deploy/native.py), the engine's modules call each other directly: patching one of
# their functions or classes changes nothing.
ENGINE_COMPILED = not str(common.rules.engine.__file__).endswith(".py")
_PURE_RUN = "LOGFLOW_TEST_PURE_PYTHON_RUN"  # set in the pure-Python run, so it can never recurse

_RUN_PURE = """
import sys, pytest, common.rules.engine as engine
assert engine.__file__.endswith(".py"), engine.__file__
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", {repo!r}, {node!r}]))
"""


def _pure_python_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of common/ without extension modules: the sources alone, which nothing can shadow."""
    tree = tmp_path_factory.getbasetemp() / "pure-python-sources"
    if not (tree / "common").is_dir():
        suffix = str(sysconfig.get_config_var("EXT_SUFFIX"))
        shutil.copytree(
            REPO / "common", tree / "common", ignore=shutil.ignore_patterns(f"*{suffix}", "__pycache__")
        )
    return tree


def patches_the_engine(test: Callable[..., None]) -> Callable[..., None]:
    """For a test that compares the engine with a patched engine.

    With the pure-Python engine the test runs as written. With the compiled engine, where patches
    change nothing, it runs the same test in a child pytest over a copy of the pure-Python sources
    and passes or fails with it: the property is checked either way, never skipped.
    """
    if not ENGINE_COMPILED:
        return test
    if os.environ.get(_PURE_RUN):
        raise RuntimeError("the pure-Python run imported the compiled engine")

    def run_over_the_pure_python_sources(request: pytest.FixtureRequest) -> None:
        tree = _pure_python_sources(request.getfixturevalue("tmp_path_factory"))
        node = f"{request.node.path}::{test.__name__}"
        result = subprocess.run(
            [sys.executable, "-c", _RUN_PURE.format(repo=str(REPO), node=node)],
            # From the copy: the script's own directory comes first on sys.path, ahead of the repo.
            cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree), _PURE_RUN: "1"},
            capture_output=True,
            text=True,
        )
        summary = (result.stdout.strip().splitlines() or [""])[-1]
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert "1 passed" in summary and "skipped" not in summary, summary

    run_over_the_pure_python_sources.__name__ = test.__name__
    run_over_the_pure_python_sources.__qualname__ = test.__qualname__
    run_over_the_pure_python_sources.__doc__ = test.__doc__
    return run_over_the_pure_python_sources


def rule(when: dict[str, Any], *then: dict[str, Any], rule_id: str = "r", **extra: Any) -> dict[str, Any]:
    """A rule with a default ``tag`` action, for tests that only care whether it matches."""
    return {"id": rule_id, "when": when, "then": list(then) or [{"action": "tag", "value": "hit"}], **extra}
