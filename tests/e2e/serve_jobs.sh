#!/usr/bin/env bash
# End-to-end: jobs over HTTP beyond the basics. Server-Sent Events (ids in
# order, the final event, resume by Last-Event-ID with nothing repeated or
# skipped, heartbeats, a stopped reader that blocks neither the job nor
# the server), Idempotency-Key (replay, 409 on another body), usage that
# excludes queue time, bulk cancel keeping best solutions, a TSPLIB file
# as the body, and /metrics checked by promtool.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/serve.bash"
tmp=$(e2e_tmpdir e2e-serve-jobs)
db="$tmp/serve.db"
src="${NEROX_SOURCE_DIR:-$(dirname "$0")/../..}"

key=$(mkkey acme jobs:write,jobs:read,usage:read business)
other=$(mkkey other jobs:write,jobs:read business)
# Finished jobs leave memory after 0.5 s, so most reads below come from
# the store.
echo '{"sse_heartbeat_s": 0.3, "keep_finished_s": 0.5}' >"$tmp/config.json"
NEROX_LOG=debug NEROX_WORKERS=1 serve_start "$db" --config "$tmp/config.json" \
  || exit 1

sse() { # KEY ID [LAST-EVENT-ID] -> the stream in $tmp/sse
  local args=(-s -N --max-time 30 -H "Authorization: Bearer $1")
  [ $# -ge 3 ] && args+=(-H "Last-Event-ID: $3")
  curl "${args[@]}" "$base/v1/jobs/$2/events" >"$tmp/sse"
}
ids() { sed -n 's/^id: //p' "$tmp/sse" | tr '\n' ' '; }

# A job with progress events, streamed whole and then resumed.
job='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2],
[2,8],[6,7],[9,9],[4,4],[8,1]],"time_limit":1.5,"solver":"cpu","seed":3}'
e2e_expect_eq "$(req POST /v1/jobs "$key" "$job")" 202 "submit"
jid=$(jget id)
sse "$key" "$jid"
all=$(ids)
n=$(echo "$all" | wc -w)
[ "$n" -ge 3 ] && e2e_ok "stream has $n events" || e2e_bad "events: '$all'"
e2e_expect_eq "$all" "$(seq -s ' ' 1 "$n") " "ids 1..$n in order"
e2e_expect_grep "$tmp/sse" "^event: succeeded" "ends with the final event"
e2e_expect_grep "$tmp/sse" '^data: \{"seq":1,' "data is the event as JSON"
sse "$key" "$jid" 2
e2e_expect_eq "$(ids)" "$(seq -s ' ' 3 "$n") " "resume after id 2"
sse "$key" "$jid" "$n"
e2e_expect_eq "$(ids)" "" "resume after the last: nothing"
curl -s --max-time 5 -H "Authorization: Bearer $key" \
  "$base/v1/jobs/$jid/events?follow=false&after=1" >"$tmp/sse"
e2e_expect_eq "$(ids)" "$(seq -s ' ' 2 "$n") " "follow=false: a snapshot"
e2e_expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H \
  "Authorization: Bearer $key" -H 'Last-Event-ID: x' \
  "$base/v1/jobs/$jid/events")" 400 "bad Last-Event-ID"
e2e_expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H \
  "Authorization: Bearer $other" "$base/v1/jobs/$jid/events")" 404 \
  "another account's stream"

# Heartbeats while a job waits in the queue (one worker, busy until it
# is cancelled, however slow the machine).
e2e_expect_eq "$(req POST /v1/jobs "$key" "${job/1.5/60}")" 202 \
  "a busy worker"
bid=$(jget id)
wait_state "$key" "$bid" running
[ "$(jget started_ms)" != null ] && e2e_ok "a running job has a start" ||
  e2e_bad "running with started_ms null"
small='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5]],
"sweeps":100,"solver":"cpu"}'
e2e_expect_eq "$(req POST /v1/jobs "$key" "$small")" 202 "a queued job"
qid=$(jget id)
(sleep 1.2; curl -s -o /dev/null -X POST -H "Authorization: Bearer $key" \
  "$base/v1/jobs/$bid/cancel") &
canceller=$!
sse "$key" "$qid"
wait "$canceller"
e2e_expect_grep "$tmp/sse" "^: heartbeat" "heartbeats while it waits"
e2e_expect_grep "$tmp/sse" "^event: succeeded" "then its events"

# A reader that stops reading blocks neither its job nor the server.
e2e_expect_eq "$(req POST /v1/jobs "$key" "$job")" 202 "submit again"
sid=$(jget id)
curl -s -N --limit-rate 1 -H "Authorization: Bearer $key" \
  "$base/v1/jobs/$sid/events" >/dev/null &
reader=$!
sleep 0.3
kill -STOP "$reader"
e2e_expect_eq "$(poll "$key" "$sid")" succeeded "job ends under a stuck reader"
e2e_expect_eq "$(req GET /healthz "")" 200 "server answers meanwhile"
kill -CONT "$reader"; kill "$reader"; wait "$reader" 2>/dev/null

# Idempotency-Key: replay returns the first job; another body is a 409.
same='{ "solver":"cpu", "sweeps":100, "problem_type":"tsp",
"coordinates":[[0,0],[3,1],[5,4],[1,5]] }'
REQ_HEADERS="-H Idempotency-Key:order-17"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$small")" 202 "keyed submit"
first=$(jget id)
e2e_expect_eq "$(req POST /v1/jobs "$key" "$same")" 200 "replay is 200"
e2e_expect_eq "$(jget id)" "$first" "replay returns the first job"
e2e_expect_eq "$(hget Idempotent-Replayed)" true "Idempotent-Replayed"
e2e_expect_eq "$(req POST /v1/jobs "$key" "${small/100/101}")" 409 \
  "another body is a 409"
e2e_expect_eq "$(req POST /v1/jobs "$other" "$small")" 202 \
  "keys are per account"
REQ_HEADERS="-H Idempotency-Key:$(head -c 300 /dev/zero | tr '\0' a)"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$small")" 400 "key too long"
REQ_HEADERS=""

# Usage excludes queue time: with one worker, B waits for A.
a='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2]],
"time_limit":2.0,"solver":"cpu"}'
b='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2]],
"time_limit":0.4,"solver":"cpu"}'
req GET /v1/usage "$key" >/dev/null
before=$(jget used_cpu_seconds)
req POST /v1/jobs "$key" "$a" >/dev/null; aid=$(jget id)
req POST /v1/jobs "$key" "$b" >/dev/null; bid=$(jget id)
poll "$key" "$bid" >/dev/null
req GET "/v1/jobs/$bid/result" "$key" >/dev/null
bq=$(jget queued_s); bs=$(jget cpu_seconds); br=$(jget run_s)
python3 -c "import sys; q,s,r=map(float,sys.argv[1:])
sys.exit(not (q > 0.5 and s < 0.8 and abs(s - r) < 1e-6))" "$bq" "$bs" \
  "$br" && e2e_ok "B billed $bs s, run time only (queued $bq s)" ||
  e2e_bad "B queued $bq s, billed $bs s, ran $br s"
req GET "/v1/jobs/$aid/result" "$key" >/dev/null; as=$(jget cpu_seconds)
req GET /v1/usage "$key" >/dev/null
python3 -c "import sys; b0,a,b,u=map(float,sys.argv[1:])
sys.exit(abs(u - (b0 + a + b)) > 1e-6)" "$before" "$as" "$bs" \
  "$(jget used_cpu_seconds)" && e2e_ok "usage adds the two run times" ||
  e2e_bad "usage $(jget used_cpu_seconds) != $before + $as + $bs"
e2e_expect_eq "$(jget used_gpu_seconds)" 0.0 "no GPU-seconds on cpu jobs"

# Bulk cancel: the account's queued and running jobs, best kept.
long='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2],
[2,8]],"time_limit":60,"solver":"cpu"}'
req POST /v1/jobs "$key" "$long" >/dev/null; l1=$(jget id)
req POST /v1/jobs "$key" "$long" >/dev/null; l2=$(jget id)
req POST /v1/jobs "$other" "$long" >/dev/null; o1=$(jget id)
sleep 0.3
e2e_expect_eq "$(req POST /v1/jobs/cancel "$key" '')" 200 "bulk cancel"
e2e_expect_eq "$(jget count)" 2 "two jobs cancelled"
e2e_expect_eq "$(req GET "/v1/jobs/$l1" "$key")" 200 "read l1"
e2e_expect_eq "$(jget status)" cancelled "l1 cancelled (was running)"
e2e_expect_eq "$(req GET "/v1/jobs/$l1/result" "$key")" 200 "l1 result"
[ "$(jget energy)" != "null" ] && e2e_ok "running job keeps its best" ||
  e2e_bad "l1 has no energy"
e2e_expect_eq "$(req GET "/v1/jobs/$l2" "$key")" 200 "read l2"
e2e_expect_eq "$(jget status)" cancelled "l2 cancelled (was queued)"
e2e_expect_eq "$(jget best_energy)" null "a job that never ran has no energy"
e2e_expect_eq "$(jget started_ms)" null "nor a start"
wait_state "$other" "$o1" running
e2e_expect_eq "$(jget status)" running "another account's job runs on"
req POST /v1/jobs/cancel "$other" '' >/dev/null

# A TSPLIB file as the body, parameters in the query string.
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H "Authorization: Bearer \
$key" -H 'Content-Type: text/plain' --data-binary \
  @"$src/examples/data/berlin52.tsp" \
  "$base/v1/jobs?solver=cpu&time_limit=10&target_energy=7542&seed=1")
e2e_expect_eq "$code" 202 "TSPLIB body accepted"
tid=$(jget id)
e2e_expect_eq "$(poll "$key" "$tid")" succeeded "TSPLIB job succeeded"
req GET "/v1/jobs/$tid/result" "$key" >/dev/null
e2e_expect_eq "$(jget energy)" 7542 "berlin52 optimum"
printf 'NAME: x\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n%s' \
  $'NODE_COORD_SECTION\n1 0 0\n2 oops 1\n' >"$tmp/bad.tsp"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H "Authorization: Bearer \
$key" -H 'Content-Type: text/plain' --data-binary @"$tmp/bad.tsp" \
  "$base/v1/jobs")
e2e_expect_eq "$code" 400 "bad TSPLIB body"
e2e_expect_grep "$tmp/out" '"message":"tsplib_text:7: ' \
  "the error names the line, once"
for q in "time_limit=nan" "time_limit=inf" "sweeps=1&sweeps=2" \
         "sweeps=5%00x" "seed=0x10" "time_limit=1e999"; do
  code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H "Authorization: Bearer \
$key" -H 'Content-Type: text/plain' --data-binary \
    @"$src/examples/data/berlin52.tsp" "$base/v1/jobs?solver=cpu&$q")
  e2e_expect_eq "$code" 400 "query $q refused"
done
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H "Authorization: Bearer \
$key" -H 'Content-Type: text/plain' --data-binary \
  @"$src/examples/data/berlin52.tsp" "$base/v1/jobs?problem_type=qubo")
e2e_expect_eq "$code" 400 "a TSPLIB body for another problem type"
e2e_expect_grep "$tmp/out" "a TSPLIB body is a tsp problem" "says why"

# HEAD is GET without a body; a route's own path is never a job id.
e2e_expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -I "$base/healthz")" \
  200 "HEAD /healthz"
e2e_expect_eq "$(req GET /v1/jobs/cancel "$key")" 405 "GET /v1/jobs/cancel"
e2e_expect_eq "$(hget Allow)" POST "Allow: POST"

# Metrics: valid for promtool, with the counts seen above.
curl -s "$base/metrics" >"$tmp/metrics.txt"
if promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.out" 2>&1
then e2e_ok "promtool check metrics"
else e2e_bad "promtool check metrics"; cat "$tmp/promtool.out"; fi
e2e_expect_grep "$tmp/metrics.txt" \
  '^nerox_http_requests_total\{route="/v1/jobs",method="POST",status="202"\} [1-9]' \
  "requests by route and status"
e2e_expect_grep "$tmp/metrics.txt" \
  '^nerox_jobs_finished_total\{status="cancelled"\} [1-9]' "jobs by status"
e2e_expect_grep "$tmp/metrics.txt" '^nerox_job_duration_seconds_count [1-9]' \
  "job duration histogram"
e2e_expect_grep "$tmp/metrics.txt" '^nerox_jobs_running [0-9]' "running gauge"
if grep -q '^nerox_http_requests_total{route="unmatched",method="GET",status="400"' \
  "$tmp/metrics.txt"; then
  e2e_bad "a 400 on a known route is labelled unmatched"
else
  e2e_ok "answers of known routes carry their route"
fi

e2e_expect_grep "$tmp/serve.err" "finished jobs left memory" \
  "finished jobs were evicted (and read from the store)"
serve_stop TERM
e2e_expect_eq "$serve_rc" 0 "exits 0"
e2e_finish
