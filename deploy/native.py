"""Compile the per-event hot path of ``common`` (parsers, rule engine, multi-line joiner) to C with mypyc.

    python -m deploy.native build   # compile if the sources changed since the last build
    python -m deploy.native check   # exit 1 when compiled modules are stale (or half-built)
    python -m deploy.native clean   # remove them: pure Python again

Parsing and applying rules are the job's per-event costs that no batching amortises; mypyc turns
the same typed Python into C: parsing runs ~1.7x faster, the rules' own cost per event drops by
10-20% (bench/README.md). It is optional: the ``.py`` sources stay the reference and run as they
are when nothing is compiled (no C compiler, or ``clean``). Python imports an extension module in
preference to a ``.py`` of the same name, so a compiled module shadows its source; the stamp
records what the build was made from, and ``check`` (run by the unit tests) fails when a source
changed after the build, so stale machine code is never tested.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / "common"
STAMP_NAME = "native-build.json"
BUILD_DIR = REPO / "build" / "mypyc"  # C sources and objects; git-ignored
GROUP = "common.native"  # mypyc's shared library: common/native__mypyc<EXT_SUFFIX>
# Per package under ``common``, the modules compiled: None for all of them but the CLI (argparse
# glue, never on the hot path), the package __init__ files (they only re-export) and _BUILD_TIME.
# Of the rules, only what runs per event: validation, loading and the durable-rules host process
# (its own interpreter, mostly waiting in the engine) stay Python, where mypyc's stricter runtime
# type checks could only turn odd input into a different error. Of multi-line joining, what runs per
# line; reading and validating its rules document (config.py) stays Python for the same reason.
# common.processing stays Python: per record it is a few calls around the parser and the engine
# (both compiled), and mypyc cannot build its generic dataclasses.
TARGETS: dict[str, tuple[str, ...] | None] = {
    "parsing": None,
    # error fingerprints run on every error record; settings and the CLI are not per event
    "errors": ("fingerprint.py", "frames.py", "groups.py", "template.py"),
    "rules": ("actions.py", "compiled.py", "conditions.py", "decide.py", "engine.py", "regex.py"),
    "multiline": ("joiner.py", "messages.py", "pool.py", "rules.py", "shapes.py", "stream.py"),
}
_SKIP = {"cli.py", "__init__.py"}
# Build-time only: the format interface and registry, and the generator that writes detect.py's
# dispatch from them (no line ever runs them).
_BUILD_TIME = {"parsing/format.py", "parsing/formats/registry.py", "parsing/formats/generate.py"}


def sources(root: Path = ROOT) -> list[Path]:
    found: list[Path] = []
    for package, modules in TARGETS.items():
        if modules is None:
            found.extend(
                p
                for p in (root / package).rglob("*.py")
                if p.name not in _SKIP and p.relative_to(root).as_posix() not in _BUILD_TIME
            )
        else:
            found.extend(root / package / name for name in modules if (root / package / name).exists())
    return sorted(found)


def _extension_suffix() -> str:
    return str(sysconfig.get_config_var("EXT_SUFFIX"))


def compiled_modules(root: Path = ROOT) -> list[Path]:
    # Every extension module under common/ is one of ours, including any a build with another
    # module list left behind: all of them shadow sources, so all count and all are cleaned.
    return sorted(root.rglob(f"*{_extension_suffix()}"))


def _module_names(root: Path) -> list[str]:
    return [str(p.relative_to(root.parent)) for p in sources(root)]


def sources_digest(root: Path = ROOT) -> str:
    """What a build depends on: every source's path and bytes, the mypy version and the interpreter."""
    digest = hashlib.sha256()
    try:
        digest.update(importlib.metadata.version("mypy").encode())
    except importlib.metadata.PackageNotFoundError:
        digest.update(b"no mypy")
    digest.update(sys.version.encode())
    for name, path in zip(_module_names(root), sources(root), strict=True):
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def staleness(root: Path = ROOT) -> str | None:
    """Why the compiled modules cannot be trusted, or None when they match the sources (or none exist)."""
    modules = compiled_modules(root)
    if not modules:
        return None
    try:
        stamp = json.loads((root / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return f"{len(modules)} compiled modules but no readable {STAMP_NAME}"
    # The digest covers each module's name as well as its bytes: an added, removed or renamed
    # module changes it too.
    if stamp.get("digest") != sources_digest(root):
        return "common changed since it was compiled"
    return None


def clean(root: Path = ROOT) -> None:
    for module in compiled_modules(root):
        module.unlink()
    (root / STAMP_NAME).unlink(missing_ok=True)
    # Where builds before the rules were compiled kept their stamp.
    (root / "parsing" / STAMP_NAME).unlink(missing_ok=True)


def build(force: bool = False) -> int:
    if not force and compiled_modules() and staleness() is None:
        print("native: common is compiled and up to date")
        return 0
    clean()
    compiler = str(sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        print(f"native: no C compiler ({compiler}); common stays pure Python", file=sys.stderr)
        return 0
    modules = _module_names(ROOT)
    print(f"native: compiling {len(modules)} modules of common ({', '.join(TARGETS)}) with mypyc")
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    setup_script = BUILD_DIR / "setup.py"
    setup_script.write_text(_SETUP.format(modules=modules, group=GROUP, target_dir=str(BUILD_DIR)))
    result = subprocess.run(
        [sys.executable, str(setup_script), "build_ext", "--inplace", "--build-temp", str(BUILD_DIR / "o")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        # Half a build would shadow some sources and not others: all or nothing.
        clean()
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        print("native: mypyc failed; common stays pure Python", file=sys.stderr)
        return 1
    stamp = {"digest": sources_digest(), "modules": modules}
    (ROOT / STAMP_NAME).write_text(json.dumps(stamp, indent=1) + "\n")
    print(f"native: built {len(compiled_modules())} extension modules")
    return 0


# mypyc's own command line always builds in ./build and names the shared library after a hash;
# mypycify lets both be chosen, so clean() knows what to remove.
_SETUP = """
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="logflow-native",
    ext_modules=mypycify({modules!r}, opt_level="3", group_name={group!r}, target_dir={target_dir!r}),
)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.native", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build", "check", "clean"])
    parser.add_argument("--force", action="store_true", help="build even when up to date")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(force=args.force)
    if args.command == "clean":
        clean()
        return 0
    reason = staleness()
    if reason is not None:
        print(f"native: {reason}: run `make setup` or `python -m deploy.native build`", file=sys.stderr)
        return 1
    state = "compiled" if compiled_modules() else "pure Python"
    print(f"native: common is {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
