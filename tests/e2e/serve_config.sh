#!/usr/bin/env bash
# End-to-end: `nerox serve --config FILE`. The file's listen, db,
# max_body (413) and plan overrides apply (a starter account runs two jobs
# at once, and its usage shows the overridden numbers); flags win over the
# file; bad files exit 2 naming the file and the place (line and column,
# or the field path); a bad --grace exits 2.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
case "$NEROX" in /*) ;; *) NEROX="$PWD/$NEROX" ;; esac # cfg_start cds
tmp=$(e2e_tmpdir e2e-serve-config)
db="$tmp/config.db"

. "$(dirname "$0")/serve.bash"
key=$(mkkey solo jobs:write,jobs:read,usage:read starter)

cat >"$tmp/good.json" <<JSON
{
  "listen": "127.0.0.1:0",
  "db": "$db",
  "max_body": 4096,
  "grace_s": 0,
  "sse_heartbeat_s": 5,
  "plans": {
    "starter": {"concurrent_jobs": 2, "jobs_per_month": null,
                "included_gpu_seconds": 7200, "requests_per_minute": 1000},
    "pro": {"requests_per_minute": 120}
  }
}
JSON

# Started with the file alone, from $tmp (so a default ./nerox.db would
# land there, not in the source tree).
cfg_start() {
  SERVE_DIR=$tmp serve_spawn "$NEROX" serve --config "$@"
}

cfg_start "$tmp/good.json" || exit 1
e2e_ok "listens on the file's address (port $port)"
e2e_expect_eq "$(req GET /healthz "")" 200 "healthz"
e2e_expect_eq "$(req GET /v1/jobs "$key")" 200 "the key is in the file's db"
e2e_expect_eq "$(hget X-RateLimit-Limit)" 1000 \
  "requests_per_minute overridden (X-RateLimit-Limit)"
e2e_expect_eq "$([ -e "$tmp/nerox.db" ] && echo yes || echo no)" no \
  "no default database made"
big=$(head -c 5000 /dev/zero | tr '\0' ' ')
e2e_expect_eq "$(req POST /v1/jobs "$key" "{$big}")" 413 \
  "max_body from the file: 413"

# starter allows 1 job at a time; the file makes it 2.
long='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2],
[2,8],[6,7],[9,9]],"time_limit":60,"solver":"cpu"}'
e2e_expect_eq "$(req POST /v1/jobs "$key" "$long")" 202 "first job"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$long")" 202 \
  "second job (concurrent_jobs 2)"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$long")" 429 "third job: 429"
e2e_expect_grep "$tmp/out" "concurrent_jobs" "429 names concurrent_jobs"
e2e_expect_eq "$(req GET /v1/usage "$key")" 200 "usage"
e2e_expect_eq "$(jget plan)" starter "usage plan"
e2e_expect_eq "$(jget jobs_limit)" null "jobs_per_month null: unlimited"
e2e_expect_eq "$(jget included_gpu_seconds)" 7200.0 \
  "included_gpu_seconds overridden"
e2e_expect_eq "$(jget overage_usd_per_gpu_hour)" 3.0 \
  "other numbers keep the plan's"

# grace_s 0: stops at once, cancelling the two jobs.
serve_stop TERM
e2e_expect_eq "$serve_rc" 0 "exits 0"
e2e_expect_grep "$tmp/serve.err" "waiting up to 0 s" "grace_s from the file"
e2e_expect_grep "$tmp/serve.err" "2 cancelled" "jobs cancelled at once"

# Flags win: --listen and --db (serve_start passes both), --max-body.
key2=$(mkkey other jobs:write,jobs:read starter "$tmp/flags.db")
serve_start "$tmp/flags.db" --config "$tmp/good.json" --max-body 100000 ||
  exit 1
e2e_expect_eq "$(req GET /v1/jobs "$key")" 401 "--db wins over the file"
e2e_expect_eq "$(req POST /v1/jobs "$key2" "{$big}")" 400 \
  "--max-body wins over the file (400, not 413)"
serve_stop TERM
e2e_expect_eq "$serve_rc" 0 "exits 0 again"

# Bad files: exit 2, and the message names the file and the place.
bad() { # file-content expected-regex description
  printf '%s' "$1" >"$tmp/bad.json"
  "$NEROX" serve --config "$tmp/bad.json" --db "$tmp/never.db" \
    >/dev/null 2>"$tmp/bad.err"
  e2e_expect_eq "$?" 2 "$3 exits 2"
  e2e_expect_grep "$tmp/bad.err" "$2" "$3 message"
}
bad $'{\n  "listen": "127.0.0.1:0",\n  "db": ,\n}' \
  "bad\.json:3:9: " "malformed JSON (line 3, column 9)"
bad '{"listen": "127.0.0.1:0", "colour": "red"}' \
  "bad\.json: unknown key 'colour' \(known: listen, db," "unknown key"
bad '{"max_body": "64M"}' "bad\.json: max_body: expected an integer >= 1" \
  "wrong type"
bad '{"plans": {"gold": {"concurrent_jobs": 3}}}' \
  "bad\.json: plans: unknown plan 'gold' \(known: starter, pro, business," \
  "unknown plan"
bad '{"plans": {"pro": {"requests_per_minute": 0}}}' \
  "bad\.json: plans\.pro\.requests_per_minute: expected an integer >= 1" \
  "bad plan number"
bad '{"plans": {"pro": {"rpm": 5}}}' \
  "bad\.json: plans\.pro: unknown key 'rpm'" "unknown plan key"
bad '[]' "bad\.json: expected a JSON object" "not an object"
bad '{"listen": "[::1]:0"}' \
  'bad\.json: listen: expected a string "IPV4-ADDRESS:PORT"' "IPv6 listen"
e2e_expect_eq "$([ -e "$tmp/never.db" ] && echo yes || echo no)" no \
  "a bad file opens no database"
"$NEROX" serve --config "$tmp/missing.json" 2>"$tmp/bad.err"
e2e_expect_eq "$?" 2 "missing file exits 2"
e2e_expect_grep "$tmp/bad.err" "missing\.json: No such file" \
  "missing file message"
"$NEROX" serve --grace soon 2>"$tmp/bad.err"
e2e_expect_eq "$?" 2 "bad --grace exits 2"
e2e_expect_grep "$tmp/bad.err" "--grace: expected seconds" "--grace message"
"$NEROX" serve --listen localhost:0 2>"$tmp/bad.err"
e2e_expect_eq "$?" 2 "a host name for --listen exits 2"
e2e_expect_grep "$tmp/bad.err" "--listen: expected IPV4-ADDRESS:PORT" \
  "--listen message"
mkfifo "$tmp/fifo.json"
timeout 10 "$NEROX" serve --config "$tmp/fifo.json" 2>"$tmp/bad.err"
e2e_expect_eq "$?" 2 "a FIFO as --config exits 2 at once"
e2e_expect_grep "$tmp/bad.err" "fifo\.json: not a regular file" "FIFO message"
e2e_finish
