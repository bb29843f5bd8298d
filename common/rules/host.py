"""The durable-rules engine host: a child process that owns every registered ruleset.

durable-rules cannot unregister a ruleset without leaking its memory (~0.1 MB per ruleset plus
~13 KB per rule, never returned; see docs/rules.md). Keeping the engine in a child process makes
that memory reclaimable: the parent recycles the host once its resident memory has grown by a
budget, by starting a fresh host with the current rulesets and stopping the old one.

Protocol on stdin/stdout: frames of a 4-byte big-endian length and a pickled tuple.
Requests: ``("register", [(name, definition_json), ...])``, ``("delete", [name, ...])``,
``("eval", [(name, facts_json), ...])``, ``("ping",)``, ``("exit",)``.
Replies: ``("ok", payload)`` or ``("error", message)``. ``eval`` answers with, per request, the
sorted ``_i`` values of the facts that matched; ``register`` with the rulesets it refused.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys
from typing import Any, BinaryIO

_HEADER = struct.Struct(">I")


def write_frame(stream: BinaryIO, obj: object) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("engine host closed its pipe")
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("engine host closed its pipe mid-frame")
    return pickle.loads(payload)


class _Engine:
    def __init__(self) -> None:
        import durable_rules_engine

        self._d = durable_rules_engine
        self._handles: dict[str, int] = {}

    def register(self, definitions: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Create the missing rulesets; returns (name, reason) for each one durable-rules refused."""
        refused: list[tuple[str, str]] = []
        for name, definition_json in definitions:
            if name not in self._handles:
                try:
                    self._handles[name] = self._d.create_ruleset(name, definition_json)
                except Exception as exc:  # a refused definition is an answer, not a host failure
                    refused.append((name, f"{type(exc).__name__}: {exc}"))
        return refused

    def delete(self, names: list[str]) -> None:
        for name in names:
            handle = self._handles.pop(name, None)
            if handle is not None:
                self._d.delete_ruleset(handle)

    def evaluate(self, requests: list[tuple[str, str]]) -> list[list[int]]:
        out: list[list[int]] = []
        for name, facts_json in requests:
            handle = self._handles[name]
            try:
                self._d.assert_events(handle, facts_json)
            except Exception as exc:  # durable-rules signals "nothing matched" as an error code
                if "not handled" not in str(exc).lower() and "observed" not in str(exc).lower():
                    raise
            out.append(sorted(self._drain(handle)))
        return out

    def _drain(self, handle: int) -> list[int]:
        # Matched events queue up as pending actions; rules are defined with a "cap", so one
        # action carries many matched events (a list of frames; a single frame without a cap).
        matched: list[int] = []
        while True:
            action = self._d.start_action(handle)
            if not action:
                return matched
            _state, message, action_handle = action
            while message:
                for frames in json.loads(message).values():
                    for frame in frames if isinstance(frames, list) else (frames,):
                        fact = frame["m"]
                        if "_i" in fact:
                            matched.append(int(fact["_i"]))
                message = self._d.complete_and_start_action(handle, action_handle)


def main() -> None:
    # The protocol owns the original stdout; anything a library prints goes to stderr instead.
    proto_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    proto_in = sys.stdin.buffer
    engine = _Engine()
    write_frame(proto_out, ("ok", os.getpid()))
    while True:
        try:
            request = read_frame(proto_in)
        except EOFError:
            return
        command = request[0]
        try:
            if command == "eval":
                reply: tuple[str, Any] = ("ok", engine.evaluate(request[1]))
            elif command == "register":
                reply = ("ok", engine.register(request[1]))
            elif command == "delete":
                engine.delete(request[1])
                reply = ("ok", None)
            elif command == "ping":
                reply = ("ok", os.getpid())
            elif command == "exit":
                write_frame(proto_out, ("ok", None))
                return
            else:
                reply = ("error", f"unknown command {command!r}")
        except Exception as exc:
            reply = ("error", f"{type(exc).__name__}: {exc}")
        write_frame(proto_out, reply)


if __name__ == "__main__":
    main()
