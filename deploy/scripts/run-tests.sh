#!/usr/bin/env bash
# `make test`: start the stack if needed, run every test, and stop what this run started, even on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

LOGFLOW=.venv/bin/logflow
# Two TaskManagers: tests/e2e/test_faults.py rescales over both and kills one of them.
export LOGFLOW_TASKMANAGERS="${LOGFLOW_TASKMANAGERS:-2}"
phase_start=$SECONDS
phase() { printf '[test %s] %s (+%ss)\n' "$(date +%H:%M:%S)" "$*" "$((SECONDS - phase_start))"; phase_start=$SECONDS; }

# Services of this checkout that are down now: exactly what this run will start and later stop.
down_now="$("$LOGFLOW" stack status --json | .venv/bin/python -c \
    'import json,sys; print(",".join(s["name"] for s in json.load(sys.stdin) if not s["running"]))' || true)"
all_down="$("$LOGFLOW" stack status --json | .venv/bin/python -c \
    'import json,sys; print(int(not any(s["running"] for s in json.load(sys.stdin))))' || true)"
if [ -z "$down_now" ]; then
    phase "the stack of this checkout is already up; it stays running afterwards"
elif [ "$all_down" = "1" ] && "$LOGFLOW" stack status --any-owner >/dev/null 2>&1; then
    phase "a stack started elsewhere already answers on the configured ports; testing against it"
else
    stop_stack() {
        local rc=$?
        phase "stopping what this run started: $down_now"
        "$LOGFLOW" stack down --only "$down_now" || true
        exit "$rc"
    }
    trap stop_stack EXIT
    trap 'exit 130' INT TERM
    phase "starting the stack (down now: $down_now)"
    "$LOGFLOW" stack up
fi
phase "stack ready"

export LOGFLOW_REQUIRE_STACK=1
set +e
.venv/bin/pytest tests --durations=25 "$@"
rc=$?
set -e
phase "tests finished with exit code $rc"
if [ "$rc" -eq 5 ]; then
    echo "make test: pytest collected no tests; that is a failure" >&2
    rc=1
fi
exit "$rc"
