"""Parent side of the engine host: start, call, measure and recycle the durable-rules process."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from common.rules.host import read_frame, write_frame
from common.rules.options import RuleEngineOptions

log = logging.getLogger(__name__)
_PAGE = os.sysconf("SC_PAGE_SIZE")
_REPO_ROOT = str(Path(__file__).resolve().parent.parent.parent)
_HOST_SCRIPT = str(Path(__file__).resolve().parent / "host.py")


class EngineHostError(RuntimeError):
    pass


class RulesetRefused(ValueError):
    """durable-rules refused to create some rulesets: ``reasons`` maps ruleset name to why."""

    def __init__(self, reasons: dict[str, str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(f"{name}: {why}" for name, why in reasons.items()))


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


class _HostProcess:
    """One engine host child process and its pipes."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_REPO_ROOT, env.get("PYTHONPATH", "")) if p)
        # Run by path, not as a module: importing ``common.rules`` would load the whole package
        # (re2, yaml, ...) into every host; host.py needs only the standard library and durable.
        self.proc = subprocess.Popen(
            [sys.executable, _HOST_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        self.ready = False
        self.registered: set[str] = set()
        self.baseline_rss = 0
        self.loaded = False  # True once the initial rule set is in; later registrations are counted
        self.registrations = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self, timeout: float) -> Any:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise EngineHostError(f"engine host {self.pid} did not answer within {timeout:.1f}s")
        return read_frame(self.proc.stdout)  # type: ignore[arg-type]

    def wait_ready(self, timeout: float) -> None:
        if not self.ready:
            self._read(timeout)  # the host's hello: it has imported durable-rules
            self.ready = True

    def call(self, request: tuple[Any, ...], timeout: float) -> Any:
        self.wait_ready(timeout)
        assert self.proc.stdin is not None
        try:
            write_frame(self.proc.stdin, request)  # type: ignore[arg-type]
            status, payload = self._read(timeout)
        except (BrokenPipeError, EOFError, OSError, ValueError) as exc:  # ValueError: pipe closed
            raise EngineHostError(f"engine host {self.pid} died: {exc}") from exc
        if status != "ok":
            raise EngineHostError(str(payload))
        return payload

    def rss(self) -> int:
        return _rss_bytes(self.pid)

    def request_exit(self) -> None:
        """Ask the host to exit (closing its stdin does it too) without waiting."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                write_frame(self.proc.stdin, ("exit",))  # type: ignore[arg-type]
                self.proc.stdin.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            stdin_open = self.proc.stdin is not None and not self.proc.stdin.closed
            if self.ready and stdin_open:
                with contextlib.suppress(EngineHostError):
                    self.call(("exit",), timeout=2.0)
            try:
                self.proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                # A dead host's pipe cannot be flushed; there is nothing left to keep.
                with contextlib.suppress(OSError):
                    stream.close()


class EngineHost:
    """The rulesets the engine should hold, kept in a recyclable child process.

    A warm spare process is started ahead of need, so replacing the host costs registering the
    current rulesets (milliseconds) rather than starting an interpreter. The spare exists from the
    start: it is a fixed cost (~13 MB), not growth.
    """

    def __init__(self, options: RuleEngineOptions | None = None) -> None:
        self.options = options or RuleEngineOptions.from_env()
        self._definitions: dict[str, str] = {}
        self._current = _HostProcess()
        self._spare: _HostProcess | None = _HostProcess() if self.options.warm_spare else None
        self._retiring: list[_HostProcess] = []
        self.recycles = 0

    # -- public ---------------------------------------------------------------------------------

    def ensure(self, definitions: Mapping[str, str]) -> None:
        """Make the host hold at least these rulesets (registering only the missing ones)."""
        missing = [(name, d) for name, d in definitions.items() if name not in self._current.registered]
        if missing:
            self._with_retry(lambda host: self._register(host, missing))
        # Only what the host accepted becomes part of the set a fresh host is loaded with.
        self._definitions.update(definitions)
        if self._grown_beyond_budget():
            self._recycle()

    def release(self, names: Iterable[str]) -> None:
        """Forget rulesets no longer in use (their engine state is freed; durable keeps some memory)."""
        gone = [n for n in names if n in self._definitions]
        for name in gone:
            del self._definitions[name]
        present = [n for n in gone if n in self._current.registered]
        if present:
            self._with_retry(lambda host: host.call(("delete", present), self.options.eval_timeout_seconds))
            self._current.registered.difference_update(present)

    def evaluate(self, requests: list[tuple[str, str]]) -> list[list[int]]:
        if not requests:
            return []
        result: list[list[int]] = self._with_retry(
            lambda host: host.call(("eval", requests), self.options.eval_timeout_seconds)
        )
        return result

    def memory_bytes(self) -> int:
        """Resident memory of the live host (the spare is idle and counted separately)."""
        return self._current.rss()

    def process_ids(self) -> list[int]:
        return [p.pid for p in (self._current, self._spare) if p is not None]

    def close(self) -> None:
        for proc in (self._current, self._spare, *self._retiring):
            if proc is not None:
                proc.stop()
        self._spare = None
        self._retiring.clear()

    def _reap(self) -> None:
        still: list[_HostProcess] = []
        for proc in self._retiring:
            if proc.proc.poll() is None:
                still.append(proc)
            else:
                proc.stop()  # already exited: only closes its pipes
        self._retiring = still

    # -- internals ------------------------------------------------------------------------------

    def _register(self, host: _HostProcess, definitions: list[tuple[str, str]]) -> None:
        refused = dict(host.call(("register", definitions), self.options.eval_timeout_seconds))
        host.registered.update(name for name, _ in definitions if name not in refused)
        if host.loaded:
            host.registrations += len(definitions)
        else:
            host.loaded = True
            host.baseline_rss = host.rss()
        if refused:
            raise RulesetRefused(refused)

    def _grown_beyond_budget(self) -> bool:
        host = self._current
        if host.registrations > self.options.host_max_registrations:
            return True
        budget = self.options.host_memory_budget_mb * 1024 * 1024
        return host.rss() - host.baseline_rss > budget

    def _fresh_host(self) -> _HostProcess:
        host = self._spare or _HostProcess()
        self._spare = None
        definitions = list(self._definitions.items())
        # The baseline is taken after loading: the live rule set is needed memory, the budget bounds
        # only what swaps leak on top of it (else a large rule set would recycle on every swap).
        host.wait_ready(self.options.eval_timeout_seconds)
        if definitions:
            self._register(host, definitions)
        host.loaded = True
        if not host.baseline_rss:
            host.baseline_rss = host.rss()
        return host

    def _recycle(self) -> None:
        old = self._current
        self._current = self._fresh_host()
        self.recycles += 1
        log.info(
            "recycled durable-rules host %d -> %d (%d rulesets)",
            old.pid,
            self._current.pid,
            len(self._definitions),
        )
        # The old host is told to exit but not waited for: a swap should not pay for its teardown.
        old.request_exit()
        self._retiring.append(old)
        self._reap()
        if self.options.warm_spare:
            self._spare = _HostProcess()

    def _with_retry(self, call: Any) -> Any:
        try:
            return call(self._current)
        except EngineHostError as first:
            # A dead or stuck host is replaced once, with every ruleset re-registered.
            log.warning("durable-rules host failed (%s); replacing it", first)
            failed = self._current
            failed.proc.kill()
            failed.stop()
            try:
                self._current = self._fresh_host()
            except Exception:
                # Never leave the stopped host in place: the next call gets a clean (empty) one.
                self._current = _HostProcess()
                raise
            self.recycles += 1
            if self._spare is None and self.options.warm_spare:
                self._spare = _HostProcess()
            return call(self._current)
