#!/usr/bin/env bash
# Remote client benchmark: per-job overhead of remote versus local for a
# small TSP (sequential jobs), and the throughput of 1,000 tiny jobs
# submitted with concurrency 20 through one client, against a `nerox
# serve` on loopback with limits high enough not to throttle.
# Usage: bench/run_remote.sh [path/to/nerox]   (results on stdout)
set -euo pipefail
NEROX=${1:-build/nerox}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill "$spid" 2>/dev/null; rm -rf "$tmp"' EXIT
key=$("$NEROX" keys create --account bench --plan enterprise \
  --scopes jobs:write,jobs:read --db "$tmp/db" \
  --limits requests_per_minute=1000000,concurrent_jobs=64,jobs_per_month=unlimited \
  | tail -n 1)
"$NEROX" serve --listen 127.0.0.1:0 --db "$tmp/db" 2>"$tmp/err" &
spid=$!
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/err")
  [ -n "$port" ] && break; sleep 0.05
done
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -m)"
NEROX_API_URL= "$NEROX" run bench/remote_bench.lua seq 200
NEROX_API_URL="http://127.0.0.1:$port" NEROX_API_KEY="$key" \
  "$NEROX" run bench/remote_bench.lua seq 200
NEROX_API_URL= "$NEROX" run bench/remote_bench.lua conc 1000 20
NEROX_API_URL="http://127.0.0.1:$port" NEROX_API_KEY="$key" \
  "$NEROX" run bench/remote_bench.lua conc 1000 20
