#!/usr/bin/env bash
# Idempotent bootstrap: system packages, the .venv, and the Maven downloads the stack needs.
# Safe to run repeatedly: every step checks first and does nothing when already done.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# --- system packages (Debian) -----------------------------------------------------------------------
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
# The browser tests of /ui drive Debian's Chromium through Playwright (never `playwright install`).
[ -x /usr/bin/chromium ] || missing+=(chromium)
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
    if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c 'import sys, venv; assert sys.version_info[:2] == (3, 11)' >/dev/null 2>&1; then
    missing+=(python3.11 python3.11-venv)
    PYTHON=python3.11
fi
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing ${missing[*]}: run as root or install them with: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python virtualenv -------------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
fi
# Re-install only when the declared dependencies changed since the last successful install.
stamp=.venv/.logflow-install
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ] || ! .venv/bin/python -c 'import common, pyflink' >/dev/null 2>&1; then
    log "installing Python dependencies (pip install -c constraints.txt -e .[dev])"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]'
    echo "$want" > "$stamp"
fi

# --- parsers and rule engine as C extensions (mypyc; a no-op when up to date, else pure Python) -----
if ! .venv/bin/python -m deploy.native build; then
    log "warning: compiling common failed; parsers and rules run as pure Python (slower, same records)"
fi

# --- Maven downloads (Kafka, Elasticsearch, the Flink Kafka connector) --------------------------------
log "checking the download cache"
.venv/bin/logflow stack fetch
log "setup complete"
