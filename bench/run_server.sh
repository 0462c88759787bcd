#!/usr/bin/env bash
# Benchmark of `nerox serve` with wrk on loopback, while jobs run: status
# reads (GET /v1/jobs/{id}) and small job submissions (POST /v1/jobs),
# each measured RUNS times; the median rate and p99 latency are written to
# bench/results/server.md.
#
#   bench/run_server.sh [BUILD_DIR]           (default: build)
#
# RUNS=N (default 3), SECONDS_PER_RUN=S (default 10), CONNECTIONS=C
# (default 32), THREADS=T (wrk threads, default 2) and WORKERS=W (engine
# workers, default 3: two hold the long jobs, the rest run the submitted
# ones) change the runs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
nerox=$build/nerox
runs=${RUNS:-3}
secs=${SECONDS_PER_RUN:-10}
conns=${CONNECTIONS:-32}
threads=${THREADS:-2}
out=$root/bench/results/server.md
tmp=$(mktemp -d /tmp/nerox-bench-server.XXXXXX)

command -v wrk >/dev/null || { echo "run_server.sh: wrk is missing" \
  "(scripts/setup.sh installs it)" >&2; exit 1; }
[ -x "$nerox" ] || { echo "run_server.sh: $nerox not found" >&2; exit 1; }

limits=requests_per_minute=100000000,concurrent_jobs=100000000
limits=$limits,jobs_per_month=unlimited
key=$("$nerox" keys create --account bench --plan enterprise \
  --scopes jobs:write,jobs:read --limits "$limits" --db "$tmp/db" |
  tail -n 1)
NEROX_WORKERS=${WORKERS:-3} "$nerox" serve --listen 127.0.0.1:0 --db "$tmp/db" \
  2>"$tmp/serve.err" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
    "$tmp/serve.err")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/serve.err" >&2; exit 1; }
base=http://127.0.0.1:$port
auth="Authorization: Bearer $key"

# Jobs that run through the whole benchmark, one per engine worker.
busy='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2],
[2,8],[6,7],[9,9]],"time_limit":600,"solver":"cpu"}'
for _ in 1 2; do
  curl -s -H "$auth" --data-binary "$busy" "$base/v1/jobs" >/dev/null
done
small='{"problem_type":"tsp","distance_matrix":[[0,2,9],[2,0,6],[9,6,0]],'
small=$small'"sweeps":10,"solver":"cpu"}'
id=$(curl -s -H "$auth" --data-binary "$small" "$base/v1/jobs" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

cat >"$tmp/submit.lua" <<LUA
wrk.method = "POST"
wrk.body = '$small'
wrk.headers["Content-Type"] = "application/json"
LUA

# wrk_run NAME URL [SCRIPT] -> "rate p99_ms non2xx"
wrk_run() {
  local args=(-t"$threads" -c"$conns" -d"${secs}s" --latency -H "$auth")
  [ $# -ge 3 ] && args+=(-s "$3")
  wrk "${args[@]}" "$2" >"$tmp/$1.txt"
  python3 - "$tmp/$1.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
print(f"{rate:.0f} {p99:.2f} {bad.group(1) if bad else 0}")
PY
}

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

reads=() submits=()
for r in $(seq "$runs"); do
  reads+=("$(wrk_run "read$r" "$base/v1/jobs/$id")")
  submits+=("$(wrk_run "submit$r" "$base/v1/jobs" "$tmp/submit.lua")")
  echo "run $r: reads ${reads[-1]}; submits ${submits[-1]}" >&2
done
read_rate=$(printf '%s\n' "${reads[@]}" | cut -d' ' -f1 | median)
read_p99=$(printf '%s\n' "${reads[@]}" | cut -d' ' -f2 | median)
sub_rate=$(printf '%s\n' "${submits[@]}" | cut -d' ' -f1 | median)
sub_p99=$(printf '%s\n' "${submits[@]}" | cut -d' ' -f2 | median)
bad=$(printf '%s\n' "${reads[@]}" "${submits[@]}" | awk '{s+=$3} END{print s}')
jobs=$(curl -s "$base/metrics" | awk '/^nerox_jobs_finished_total/ {s+=$2}
  END{print s+0}')

{
  echo "# nerox serve under wrk"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(lscpu | sed -n \
    's/^Model name: *//p' | head -n 1)), loopback, two jobs running on"
  echo "the engine's workers throughout; wrk -t$threads -c$conns, ${secs} s"
  echo "a run, $runs runs, medians. \`bench/run_server.sh\` wrote this."
  echo
  echo "| load | requests/s (median) | p99 latency (median) | runs |"
  echo "| --- | --- | --- | --- |"
  echo "| GET /v1/jobs/{id} | $read_rate | ${read_p99} ms |" \
    "$(printf '%s / ' "${reads[@]}" | sed 's| / $||') |"
  echo "| POST /v1/jobs (3-city TSP, 10 sweeps) | $sub_rate |" \
    "${sub_p99} ms | $(printf '%s / ' "${submits[@]}" | sed 's| / $||') |"
  echo
  echo "Each run is \"rate p99_ms non-2xx\". Answers other than 2xx: $bad."
  echo "Jobs finished by the server during the benchmark: $jobs."
} >"$out"
cat "$out"
