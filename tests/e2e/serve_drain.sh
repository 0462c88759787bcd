#!/usr/bin/env bash
# End-to-end: `nerox serve --grace S` drains on SIGTERM. While draining,
# submissions and /healthz answer 503 and other routes keep answering; a
# short job finishes within the grace and ends succeeded; a long job is
# cancelled when the grace runs out and keeps its best solution; the
# server logs what happened and exits 0 well before the long job's time
# limit.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
tmp=$(e2e_tmpdir e2e-serve-drain)
db="$tmp/serve.db"
export NEROX_WORKERS=2 # the two jobs run side by side

. "$(dirname "$0")/serve.bash"

# took_within T0 T1 MIN MAX DESC: checks MIN <= T1 - T0 < MAX seconds.
took_within() {
  local took
  took=$(python3 -c 'import sys; print(round(float(sys.argv[2]) -
float(sys.argv[1]), 2))' "$1" "$2")
  if python3 -c 'import sys; sys.exit(not float(sys.argv[2]) <=
float(sys.argv[1]) < float(sys.argv[3]))' "$took" "$3" "$4"; then
    e2e_ok "$5 (${took} s)"
  else
    e2e_bad "$5 (${took} s, expected $3 to $4)"
  fi
}
key=$(mkkey acme jobs:write,jobs:read)
# The test polls fast: lift the account's rate limit.
"$NEROX" keys limits --account acme --limits requests_per_minute=100000 \
  --db "$db" >/dev/null
serve_start "$db" --grace 6 || exit 1

coords='"coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2],[2,8],[6,7],[9,9]]'
long="{\"problem_type\":\"tsp\",$coords,\"time_limit\":60,\"solver\":\"cpu\"}"
short="{\"problem_type\":\"tsp\",$coords,\"time_limit\":3,\"solver\":\"cpu\"}"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$long")" 202 "submit a long job"
lid=$(jget id)
e2e_expect_eq "$(req POST /v1/jobs "$key" "$short")" 202 "submit a short job"
sid=$(jget id)
wait_state "$key" "$sid" running
e2e_expect_eq "$(jget status)" running "short job running"

# SIGTERM: draining starts; new work is refused, reads still answer.
t0=$(date +%s.%N)
kill -TERM "$pid"
wait_log draining
e2e_expect_grep "$tmp/serve.err" "SIGTERM: draining, 2 job\(s\) live" \
  "logs the drain"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$short")" 503 "submit gets 503"
e2e_expect_eq "$(req GET /healthz "")" 503 "healthz gets 503"
e2e_expect_eq "$(jget status)" draining "healthz says draining"
e2e_expect_eq "$(req GET "/v1/jobs/$lid" "$key")" 200 "reads still answer"
e2e_expect_eq "$(jget status)" running "long job still running"

wait "$pid"
serve_rc=$?
trap - EXIT
t1=$(date +%s.%N)
e2e_expect_eq "$serve_rc" 0 "exits 0 after the drain"
took_within "$t0" "$t1" 5.5 15 "stopped at the end of the grace"
e2e_expect_grep "$tmp/serve.err" \
  "drained: 1 job\(s\) finished during the grace, 1 cancelled" \
  "logs one finished, one cancelled"
e2e_expect_grep "$tmp/serve.err" "stopped" "logs the stop"

# What was recorded, read back from a new server on the same database.
serve_start "$db" || exit 1
e2e_expect_eq "$(req GET "/v1/jobs/$sid" "$key")" 200 "short job readable"
e2e_expect_eq "$(jget status)" succeeded "short job ended succeeded"
e2e_expect_eq "$(req GET "/v1/jobs/$lid" "$key")" 200 "long job readable"
e2e_expect_eq "$(jget status)" cancelled "long job cancelled"
e2e_expect_eq "$(req GET "/v1/jobs/$lid/result" "$key")" 200 \
  "long job's result"
[ -n "$(jget energy)" ] && [ "$(jget energy)" != null ] &&
  e2e_ok "cancelled job keeps its best energy" ||
  e2e_bad "cancelled job keeps its best energy"
e2e_expect_eq "$(req GET "/v1/jobs/$sid/result" "$key")" 200 \
  "short job's result"
e2e_expect_eq "$(jget status)" succeeded "short result succeeded"
if grep -q "recovered" "$tmp/serve.err"; then
  e2e_bad "a drained server leaves nothing to recover"
else
  e2e_ok "a drained server leaves nothing to recover"
fi

# A second signal ends the wait at once (grace 30 s here). A database of
# its own: job ids restart with each process.
serve_stop TERM
db2="$tmp/serve2.db"
key=$(mkkey acme jobs:write,jobs:read pro "$db2")
"$NEROX" keys limits --account acme --limits requests_per_minute=100000 \
  --db "$db2" >/dev/null
serve_start "$db2" --grace 30 || exit 1
e2e_expect_eq "$(req POST /v1/jobs "$key" "$long")" 202 "submit another"
lid2=$(jget id)
t0=$(date +%s.%N)
kill -TERM "$pid"
wait_log draining
kill -INT "$pid"
wait "$pid"
serve_rc=$?
trap - EXIT
t1=$(date +%s.%N)
e2e_expect_eq "$serve_rc" 0 "exits 0 after a second signal"
took_within "$t0" "$t1" 0 10 "the second signal skips the grace"
e2e_expect_grep "$tmp/serve.err" "SIGINT again: not waiting" \
  "logs the second signal"
e2e_expect_grep "$tmp/serve.err" "0 job\(s\) finished during the grace, 1 c" \
  "the job was cancelled"
serve_start "$db2" || exit 1
e2e_expect_eq "$(req GET "/v1/jobs/$lid2" "$key")" 200 "job readable"
e2e_expect_eq "$(jget status)" cancelled "job cancelled by the second signal"
serve_stop TERM
e2e_expect_eq "$serve_rc" 0 "exits 0"
e2e_finish
