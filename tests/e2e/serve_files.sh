#!/usr/bin/env bash
# End-to-end: `nerox serve` refuses file paths. tsp's tsplib, maxcut's rudy
# and qubo's bqp name files on the server's disk, so over HTTP each is a
# 400 naming the field, with nothing of the file in the answer; the text
# fields (tsplib_text, rudy_text, bqp_text) carry the contents instead:
# berlin52 as tsplib_text reaches its optimum 7542, and a bad text is a 400
# naming the text field and the line.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
tmp=$(e2e_tmpdir e2e-serve-files)
db="$tmp/serve.db"

. "$(dirname "$0")/serve.bash"
key=$(mkkey acme jobs:write,jobs:read)
serve_start "$db" || exit 1

# A JSON object of the given fields: FIELD=VALUE (a string) or FIELD:=JSON.
jobj() {
  python3 -c 'import json,sys
d={}
for a in sys.argv[1:]:
    if ":=" in a: k,v=a.split(":=",1); d[k]=json.loads(v)
    else: k,v=a.split("=",1); d[k]=v
print(json.dumps(d))' "$@"
}

# Nothing of /etc/passwd (its first line, or any "root:") in the answer.
expect_no_passwd() {
  local first
  first=$(head -n 1 /etc/passwd)
  if grep -qF -e "$first" -e "root:" "$tmp/out"; then
    e2e_bad "$1 (the answer quotes /etc/passwd)"
    sed 's/^/  | /' "$tmp/out"
  else
    e2e_ok "$1"
  fi
}

refused() {  # PROBLEM_TYPE FIELD [EXTRA JSON FIELDS...]
  local body
  body=$(jobj problem_type="$1" "$2"=/etc/passwd "${@:3}")
  e2e_expect_eq "$(req POST /v1/jobs "$key" "$body")" 400 "$2 path is 400"
  e2e_expect_eq "$(jget error.field)" "$2" "names $2"
  e2e_expect_grep "$tmp/out" "$2: file paths are not accepted over HTTP; \
send the file's contents as $2_text" "says to send $2_text"
  expect_no_passwd "nothing of /etc/passwd for $2"
}

refused tsp tsplib
e2e_expect_grep "$tmp/out" "or POST the TSPLIB file as the request body" \
  "tsplib names the body upload"
refused maxcut rudy
refused qubo bqp instance:=1
refused tsp tsplib 'params:={"sweeps":10}'
refused tsp tsplib tsplib_text="x"

# A path to a real instance is refused too, not read.
body=$(jobj problem_type=tsp tsplib="$PWD/examples/data/berlin52.tsp")
e2e_expect_eq "$(req POST /v1/jobs "$key" "$body")" 400 "real path is 400"
e2e_expect_eq "$(jget error.field)" tsplib "real path names tsplib"

# The contents as tsplib_text: berlin52 reaches 7542 in 2000 sweeps.
body=$(jobj problem_type=tsp tsplib_text="$(cat examples/data/berlin52.tsp)" \
  'params:={"sweeps":2000,"seed":1,"solver":"cpu"}')
e2e_expect_eq "$(req POST /v1/jobs "$key" "$body")" 202 "tsplib_text 202"
id=$(jget id)
e2e_expect_eq "$(poll "$key" "$id")" succeeded "tsplib_text succeeded"
e2e_expect_eq "$(req GET "/v1/jobs/$id/result" "$key")" 200 "tsplib_text result"
e2e_expect_eq "$(jget energy)" 7542 "berlin52 optimum 7542"
e2e_expect_eq "$(jget instance)" berlin52 "instance named from the text"

bad=$'NAME: t\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n'
bad+=$'NODE_COORD_SECTION\n1 0 0\n2 1 x\n3 2 2\nEOF\n'
e2e_expect_eq "$(req POST /v1/jobs "$key" "$(jobj problem_type=tsp \
  tsplib_text="$bad")")" 400 "bad tsplib_text is 400"
e2e_expect_eq "$(jget error.field)" tsplib_text "names tsplib_text"
e2e_expect_grep "$tmp/out" "tsplib_text:7: " "names the line"

# rudy_text and bqp_text.
body=$(jobj problem_type=maxcut rudy_text=$'4 4\n1 2 1\n2 3 1\n3 1 1\n3 4 1\n' \
  'params:={"sweeps":200,"seed":2,"solver":"cpu"}')
e2e_expect_eq "$(req POST /v1/jobs "$key" "$body")" 202 "rudy_text 202"
id=$(jget id)
e2e_expect_eq "$(poll "$key" "$id")" succeeded "rudy_text succeeded"
req GET "/v1/jobs/$id/result" "$key" >/dev/null
e2e_expect_eq "$(jget cut)" 3 "rudy_text cut"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$(jobj problem_type=maxcut \
  rudy_text=$'3 2\n1 2 1\n2 2 1\n')")" 400 "bad rudy_text is 400"
e2e_expect_eq "$(jget error.field)" rudy_text "names rudy_text"
e2e_expect_grep "$tmp/out" "rudy_text:3: " "names the rudy line"

body=$(jobj problem_type=qubo bqp_text=$'1\n2 3\n1 1 3\n2 2 2\n1 2 -1\n' \
  'params:={"sweeps":200,"seed":3,"solver":"cpu"}')
e2e_expect_eq "$(req POST /v1/jobs "$key" "$body")" 202 "bqp_text 202"
id=$(jget id)
e2e_expect_eq "$(poll "$key" "$id")" succeeded "bqp_text succeeded"
req GET "/v1/jobs/$id/result" "$key" >/dev/null
e2e_expect_eq "$(jget objective)" 3 "bqp_text objective 3 + 2 - 2"
e2e_expect_eq "$(req POST /v1/jobs "$key" "$(jobj problem_type=qubo \
  bqp_text=$'1\n2 1\n1 2 3\n' instance:=2)")" 400 "bqp_text instance 400"
e2e_expect_eq "$(jget error.field)" instance "names instance"

e2e_expect_eq "$(req GET /healthz "")" 200 "still healthy"
serve_stop TERM
e2e_expect_eq "$serve_rc" 0 "exits 0 on SIGTERM"
e2e_finish
