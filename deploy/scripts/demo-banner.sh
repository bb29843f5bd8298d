#!/usr/bin/env bash
# What `make demo` prints at the end: where to look, and how to stop.
set -euo pipefail
cd "$(dirname "$0")/../.."
flink="${LOGFLOW_FLINK_REST:-http://127.0.0.1:8081}"
es="${LOGFLOW_ES_URL:-http://127.0.0.1:9200}"
api="${LOGFLOW_API_URL:-http://127.0.0.1:8000}"
home="${LOGFLOW_HOME:-$PWD/.logflow}"
cat <<TEXT

logflow demo is running.
  Flink UI (job should be RUNNING):  $flink
  Records in Elasticsearch:          curl -s '$es/logs-*/_search?size=3&pretty'
  Record count:                      curl -s '$es/logs-*/_count?pretty'
  Per-window stats from Redis:       .venv/bin/logflow stats   (each window once it closes, ~1 min)
  Dashboards and rules console:      $api/ui   (sign in with the token in $home/secrets/api-token)
  Rules API docs (token in $home/secrets/api-token):  $api/docs
  Service status / logs:             .venv/bin/logflow stack status ; ls $home/logs/
Stop everything with:                make down
TEXT
