#!/usr/bin/env bash
# End-to-end: the limits of `nerox serve` over loopback. Requests per
# minute (429 with Retry-After, X-RateLimit-* on every authenticated
# answer, none on a 401), concurrent jobs (429 while one runs, accepted
# again once it is cancelled), jobs per calendar month (429 naming the
# limit, X-RateLimit-Reset at the next month), scopes of /v1/usage, and
# a plan's limits shared by every key of an account.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/serve.bash"
tmp=$(e2e_tmpdir e2e-serve-limits)
db="$tmp/serve.db"

lim() { # ACCOUNT SCOPES LIMITS
  "$NEROX" keys create --account "$1" --plan enterprise --scopes "$2" \
    --limits "$3" --db "$db" | tail -n 1
}
rk=$(lim rpm jobs:read requests_per_minute=4)
rk2=$(lim rpm jobs:read requests_per_minute=4)
ck=$(lim conc jobs:read,jobs:write concurrent_jobs=1,requests_per_minute=1000)
mk=$(lim month jobs:read,jobs:write,usage:read \
  jobs_per_month=2,requests_per_minute=1000)
nk=$(mkkey nousage jobs:read,jobs:write)
serve_start "$db" || exit 1

# Requests per minute: a burst of 4 (two keys, one account), then 429.
codes=""
for k in "$rk" "$rk2" "$rk" "$rk"; do
  codes="$codes $(req GET /v1/jobs "$k")"
done
e2e_expect_eq "$codes" " 200 200 200 200" "four requests pass"
e2e_expect_eq "$(hget X-RateLimit-Limit)" 4 "X-RateLimit-Limit"
e2e_expect_eq "$(hget X-RateLimit-Remaining)" 0 "X-RateLimit-Remaining 0"
e2e_expect_eq "$(req GET /v1/jobs "$rk2")" 429 "the fifth is refused"
e2e_expect_eq "$(jget error.type)" rate_limited "429 error type"
e2e_expect_eq "$(jget error.limit)" requests_per_minute "429 names limit"
ra=$(hget Retry-After)
now=$(date +%s)
reset=$(hget X-RateLimit-Reset)
[ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 15 ] &&
  e2e_ok "Retry-After $ra s (one request every 15 s)" ||
  e2e_bad "Retry-After '$ra'"
[ -n "$reset" ] && [ "$reset" -gt "$now" ] && [ "$reset" -le $((now + 61)) ] &&
  e2e_ok "X-RateLimit-Reset within the minute" ||
  e2e_bad "X-RateLimit-Reset '$reset' (now $now)"
e2e_expect_eq "$(req GET /v1/jobs nrx_unknown)" 401 "401"
e2e_expect_eq "$(hget X-RateLimit-Limit)" "" "no X-RateLimit on a 401"
e2e_expect_eq "$(req GET /v1/jobs/job-404 "$ck")" 404 "404 for a job"
e2e_expect_eq "$(hget X-RateLimit-Limit)" 1000 "X-RateLimit on a 404"

# Concurrent jobs: one runs, the second is refused until it is cancelled.
long='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2],
[2,8],[6,7],[9,9]],"time_limit":60,"solver":"cpu"}'
short='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5]],
"sweeps":100,"solver":"cpu"}'
e2e_expect_eq "$(req POST /v1/jobs "$ck" "$long")" 202 "first job"
lid=$(jget id)
e2e_expect_eq "$(req POST /v1/jobs "$ck" "$short")" 429 "second refused"
e2e_expect_eq "$(jget error.limit)" concurrent_jobs "names concurrent_jobs"
e2e_expect_eq "$(hget X-RateLimit-Limit)" 1 "limit 1 in the header"
e2e_expect_eq "$(hget Retry-After)" 1 "Retry-After 1"
e2e_expect_eq "$(req POST "/v1/jobs/$lid/cancel" "$ck" '')" 200 "cancel"
e2e_expect_eq "$(req POST /v1/jobs "$ck" "$short")" 202 "accepted again"

# Jobs per month: two, then 429 until the first of next month (UTC).
e2e_expect_eq "$(req POST /v1/jobs "$mk" "$short")" 202 "month job 1"
e2e_expect_eq "$(req POST /v1/jobs "$mk" "$short")" 202 "month job 2"
e2e_expect_eq "$(req POST /v1/jobs "$mk" "$short")" 429 "month job 3"
e2e_expect_eq "$(jget error.limit)" jobs_per_month "names jobs_per_month"
next=$(python3 -c 'import datetime as d
t=d.datetime.now(d.timezone.utc); y,m=(t.year+1,1) if t.month==12 else \
(t.year,t.month+1); print(int(d.datetime(y,m,1,tzinfo=d.timezone.utc)
.timestamp()))')
e2e_expect_eq "$(hget X-RateLimit-Reset)" "$next" "reset at next month"
ra=$(hget Retry-After)
[ "$ra" -ge 1 ] && [ "$ra" -le $((next - $(date +%s) + 2)) ] &&
  e2e_ok "Retry-After until next month" || e2e_bad "Retry-After '$ra'"
e2e_expect_eq "$(req GET /v1/usage "$mk")" 200 "usage"
e2e_expect_eq "$(jget jobs_this_period)" 2 "usage counts two jobs"
e2e_expect_eq "$(jget jobs_limit)" 2 "usage names the limit"
e2e_expect_eq "$(req GET /v1/usage "$nk")" 403 "usage needs usage:read"

e2e_expect_eq "$(req GET /healthz "")" 200 "still healthy"
serve_stop TERM
e2e_expect_eq "$serve_rc" 0 "exits 0"
e2e_finish
