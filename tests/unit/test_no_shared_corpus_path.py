"""No tracked test, benchmark or CI file reads the corpus from beside the clone: users' clones have none."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Built here, so this file does not match itself: the parent folder's corpus as a relative path, as
# a pathlib expression (the parent joined with "shared", then "corpus") and as this machine's absolute path.
FORBIDDEN = ["".join(("..", "/", "shared")), '"shared" ' + '/ "corpus"', "/work" + "/shared"]
CHECKED = ("tests", "bench", ".ci")


def _tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", *CHECKED], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return [REPO / name for name in listed.split("\0") if name]


def test_no_tracked_file_under_tests_bench_or_ci_refers_to_the_parent_folder_corpus() -> None:
    files = _tracked_files()
    assert any(path.name == "bench_parse.py" for path in files)  # the listing really covers the tree
    offenders = [
        (str(path.relative_to(REPO)), text)
        for path in files
        if path.is_file()
        for text in FORBIDDEN
        if text.encode() in path.read_bytes()
    ]
    assert offenders == [], "a user's clone has nothing beside it; use tests/data instead"
