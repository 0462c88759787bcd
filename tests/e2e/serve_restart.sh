#!/usr/bin/env bash
# End-to-end: `nerox serve` restarted on the same database. Finished jobs
# and their results survive a restart; a job running when the server is
# killed (kill -9) is failed at the next start, with the reason as its
# error and in a result that GET .../result answers, and is never billed
# (no usage_ledger row); a finished job keeps its Idempotency-Key, its
# events and its one ledger row; new jobs get ids that do not collide
# with stored ones; a second restart recovers nothing more.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
tmp=$(e2e_tmpdir e2e-serve-restart)
db="$tmp/serve.db"

. "$(dirname "$0")/serve.bash"
key=$(mkkey acme jobs:write,jobs:read)
# The test polls fast: lift the account's rate limit.
"$NEROX" keys limits --account acme --limits requests_per_minute=100000 \
  --db "$db" >/dev/null
serve_start "$db" || exit 1

tsp='{"problem_type":"tsp","distance_matrix":[[0,2,9,10],[2,0,6,4],
[9,6,0,8],[10,4,8,0]],"sweeps":200,"seed":1,"solver":"cpu"}'
REQ_HEADERS="-H Idempotency-Key:short-1"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$tsp")" 202 "submit a short job"
REQ_HEADERS=""
sid=$(jget id)
e2e_expect_eq "$(poll "$key" "$sid")" succeeded "short job succeeded"

long='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2],
[2,8],[6,7],[9,9]],"time_limit":60,"solver":"cpu"}'
e2e_expect_eq "$(req POST /v1/jobs "$key" "$long")" 202 "submit a long job"
lid=$(jget id)
wait_state "$key" "$lid" running
e2e_expect_eq "$(jget status)" running "long job running"

# The process dies without a chance to record anything.
serve_stop KILL
e2e_expect_eq "$serve_rc" 137 "killed with SIGKILL"

serve_start "$db" || exit 1
e2e_expect_grep "$tmp/serve.err" "recovered 1 job\(s\) left unfinished" \
  "restart logs one recovered job"
e2e_expect_eq "$(req GET "/v1/jobs/$sid" "$key")" 200 "short job still there"
e2e_expect_eq "$(jget status)" succeeded "short job still succeeded"
e2e_expect_eq "$(req GET "/v1/jobs/$sid/result" "$key")" 200 \
  "short job's result still there"
e2e_expect_eq "$(jget energy)" 23 "short job's result kept its energy"
REQ_HEADERS="-H Idempotency-Key:short-1"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$tsp")" 200 \
  "its Idempotency-Key still replays"
REQ_HEADERS=""
e2e_expect_eq "$(jget id)" "$sid" "replay names the first job"
curl -s -N --max-time 10 -H "Authorization: Bearer $key" \
  "$base/v1/jobs/$sid/events" >"$tmp/sse"
e2e_expect_grep "$tmp/sse" "^event: succeeded" "its events stream from the store"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$tsp")" 202 "a new job after restart"
nid=$(jget id)
[ "$nid" != "$sid" ] && [ "$nid" != "$lid" ] &&
  e2e_ok "new ids do not collide with stored ones ($nid)" ||
  e2e_bad "new id $nid collides"
e2e_expect_eq "$(poll "$key" "$nid")" succeeded "the new job succeeds"

e2e_expect_eq "$(req GET "/v1/jobs/$lid" "$key")" 200 "long job readable"
e2e_expect_eq "$(jget status)" failed "interrupted job is failed"
[ "$(jget finished_ms)" != null ] && e2e_ok "interrupted job has finished_ms" ||
  e2e_bad "interrupted job has finished_ms"
e2e_expect_eq "$(req GET "/v1/jobs/$lid/result" "$key")" 200 \
  "interrupted job's result answers"
e2e_expect_eq "$(jget status)" failed "result status failed"
e2e_expect_grep "$tmp/out" '"error": *"interrupted: the server stopped' \
  "result gives the reason"
e2e_expect_eq "$(jget job_id)" "$lid" "result names the job"
e2e_expect_eq "$(jget problem_type)" tsp "result names the problem type"
curl -s -N --max-time 10 -H "Authorization: Bearer $key" \
  "$base/v1/jobs/$lid/events" >"$tmp/sse"
e2e_expect_grep "$tmp/sse" "^event: failed" "its event stream ends failed"
last=$(sed -n 's/^id: //p' "$tmp/sse" | tail -n 1)
curl -s -N --max-time 10 -H "Authorization: Bearer $key" \
  -H "Last-Event-ID: $((last - 1))" "$base/v1/jobs/$lid/events" >"$tmp/sse"
e2e_expect_grep "$tmp/sse" "^id: $last\$" "resumed, the final event comes again"
e2e_expect_eq "$(req GET "/v1/jobs?status=failed" "$key")" 200 \
  "list failed jobs"
e2e_expect_eq "$(jget jobs.0.id)" "$lid" "listing shows it failed"

# Never billed: no ledger row for the interrupted job.
rows=$(python3 - "$db" "$lid" "$sid" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT count(*) FROM usage_ledger WHERE job_id = ?",
                (sys.argv[2],)).fetchone()[0])
print(c.execute("SELECT error FROM jobs WHERE id = ?",
                (sys.argv[2],)).fetchone()[0])
print(c.execute("SELECT count(*) FROM usage_ledger WHERE job_id = ?",
                (sys.argv[3],)).fetchone()[0])
PY
)
e2e_expect_eq "$(echo "$rows" | head -n 1)" 0 "no usage row for the job"
e2e_expect_eq "$(echo "$rows" | sed -n 2p | cut -c1-12)" "interrupted:" \
  "stored error"
e2e_expect_eq "$(echo "$rows" | sed -n 3p)" 1 "the short job is billed once"

serve_stop TERM
e2e_expect_eq "$serve_rc" 0 "exits 0 on SIGTERM"

# A clean stop leaves nothing to recover.
serve_start "$db" || exit 1
if grep -q "recovered" "$tmp/serve.err"; then
  e2e_bad "second restart recovers nothing"
else
  e2e_ok "second restart recovers nothing"
fi
e2e_expect_eq "$(req GET "/v1/jobs/$lid" "$key")" 200 "still readable"
e2e_expect_eq "$(jget status)" failed "still failed"
serve_stop TERM
e2e_expect_eq "$serve_rc" 0 "exits 0 again"
e2e_finish
