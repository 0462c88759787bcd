#!/usr/bin/env bash
# End-to-end: `nerox serve` over loopback with curl. Health, keys (401,
# 403), submit tsp and maxcut (202), poll to succeeded, results, 409 while
# running, cancel keeping the best solution, another account's job (404),
# unknown routes (404), wrong methods (405 with Allow), bad JSON, types and
# fields (400), a body over --max-body (413), and the server still up.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
tmp=$(e2e_tmpdir e2e-serve-api)
db="$tmp/serve.db"

. "$(dirname "$0")/serve.bash"
wkey=$(mkkey acme jobs:write,jobs:read)
rkey=$(mkkey acme jobs:read)
okey=$(mkkey other jobs:write,jobs:read)
serve_start "$db" --max-body 4096 || exit 1

e2e_expect_eq "$(req GET /healthz "")" 200 "healthz"
e2e_expect_eq "$(req GET /v1/jobs "")" 401 "401 without a key"
e2e_expect_eq "$(jget error.type)" unauthorized "401 error shape"
e2e_expect_eq "$(req GET /v1/jobs nrx_bad)" 401 "401 with a bad key"

tsp='{"problem_type":"tsp","distance_matrix":[[0,2,9,10],[2,0,6,4],
[9,6,0,8],[10,4,8,0]],"sweeps":200,"seed":1,"solver":"cpu"}'
e2e_expect_eq "$(req POST /v1/jobs "$rkey" "$tsp")" 403 "403 read-only key"
e2e_expect_eq "$(req POST /v1/jobs "$wkey" "$tsp")" 202 "submit tsp 202"
tid=$(jget id)
maxcut='{"problem_type":"maxcut","edges":[[0,1],[1,2],[2,0],[2,3]],
"params":{"sweeps":200,"seed":2,"solver":"cpu"}}'
e2e_expect_eq "$(req POST /v1/jobs "$wkey" "$maxcut")" 202 "submit maxcut"
mid=$(jget id)
e2e_expect_eq "$(poll "$rkey" "$tid")" succeeded "tsp succeeded"
e2e_expect_eq "$(poll "$rkey" "$mid")" succeeded "maxcut succeeded"
e2e_expect_eq "$(req GET "/v1/jobs/$tid/result" "$rkey")" 200 "tsp result"
for f in energy solution solver device model_hash; do
  [ -n "$(jget $f)" ] && e2e_ok "tsp result has $f" ||
    e2e_bad "tsp result has $f"
done
e2e_expect_eq "$(jget energy)" 23 "tsp energy is the optimum"
e2e_expect_eq "$(req GET "/v1/jobs/$mid/result" "$rkey")" 200 "maxcut result"
e2e_expect_eq "$(jget energy)" -3 "maxcut energy"
e2e_expect_eq "$(req GET "/v1/jobs/$tid" "$okey")" 404 "other account 404"

# A long job: 409 on its result while it runs, then cancel keeps the best.
long='{"problem_type":"tsp","coordinates":[[0,0],[3,1],[5,4],[1,5],[7,2],
[2,8],[6,7],[9,9]],"time_limit":60,"solver":"cpu"}'
e2e_expect_eq "$(req POST /v1/jobs "$wkey" "$long")" 202 "submit long job"
lid=$(jget id)
sleep 0.5
e2e_expect_eq "$(req GET "/v1/jobs/$lid/result" "$rkey")" 409 "409 running"
e2e_expect_eq "$(req POST "/v1/jobs/$lid/cancel" "$rkey" '')" 403 \
  "cancel needs jobs:write"
e2e_expect_eq "$(req POST "/v1/jobs/$lid/cancel" "$wkey" '')" 200 "cancel"
e2e_expect_eq "$(jget status)" cancelled "cancelled"
e2e_expect_eq "$(req GET "/v1/jobs/$lid/result" "$rkey")" 200 \
  "cancelled result"
[ -n "$(jget energy)" ] && e2e_ok "cancel keeps the best solution" ||
  e2e_bad "cancel keeps the best solution"

e2e_expect_eq "$(req GET "/v1/jobs?limit=2" "$rkey")" 200 "list"
e2e_expect_eq "$(jget jobs.0.id)" "$lid" "list newest first"
e2e_expect_eq "$(req GET "/v1/jobs?status=succeeded" "$okey")" 200 "list other"
e2e_expect_eq "$(python3 -c 'import json,sys
print(len(json.load(open(sys.argv[1]))["jobs"]))' "$tmp/out")" 0 \
  "another account sees none"
e2e_expect_eq "$(req GET "/v1/jobs?status=nope" "$rkey")" 400 "bad status"

e2e_expect_eq "$(req GET /nope "")" 404 "unknown route"
e2e_expect_eq "$(req GET /v1/jobs/x/y "$rkey")" 404 "unknown job route"
e2e_expect_eq "$(req DELETE /v1/jobs "$wkey")" 405 "405 wrong method"
curl -s -D "$tmp/hdr" -o /dev/null -X PUT "$base/healthz"
e2e_expect_grep "$tmp/hdr" "^Allow: GET" "405 names Allow"

e2e_expect_eq "$(req POST /v1/jobs "$wkey" '{"problem_type": "tsp",')" 400 \
  "malformed JSON"
e2e_expect_grep "$tmp/out" "line 1, column" "malformed JSON position"
e2e_expect_eq "$(req POST /v1/jobs "$wkey" '{"problem_type":"nope"}')" 400 \
  "unknown problem_type"
e2e_expect_eq "$(jget error.field)" problem_type "names problem_type"
e2e_expect_eq "$(req POST /v1/jobs "$wkey" \
  '{"problem_type":"tsp","distance_matrix":"x"}')" 400 "bad field"
e2e_expect_eq "$(jget error.field)" distance_matrix "names the field"
e2e_expect_eq "$(req POST /v1/jobs "$wkey" '[1]')" 400 "not an object"
big=$(head -c 5000 /dev/zero | tr '\0' ' ')
e2e_expect_eq "$(req POST /v1/jobs "$wkey" "{$big}")" 413 "413 over limit"

e2e_expect_eq "$(req GET /healthz "")" 200 "still healthy"
serve_stop TERM
e2e_expect_eq "$serve_rc" 0 "exits 0 on SIGTERM"
e2e_finish
