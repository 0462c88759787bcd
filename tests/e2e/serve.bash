# Helpers for end-to-end tests of `nerox serve` (sourced after
# common.bash, with $NEROX set and $tmp a scratch folder).
#   serve_start DB [FLAGS...]  starts a server on a free loopback port;
#                              sets $pid, $port and $base
#   serve_spawn CMD...         the same for any command line that logs
#                              "listening on" (run in $SERVE_DIR if set)
#   serve_stop [SIGNAL]        signals it (TERM) and waits; sets
#                              $serve_rc to its exit status (not in $(...))
#   mkkey ACCOUNT SCOPES [PLAN] [DB]  creates a key, prints the secret
#   req METHOD PATH KEY [BODY] body to $tmp/out, headers to $tmp/hdr;
#                              prints the status ($REQ_HEADERS: extra -H)
#   jget FIELD                 a field of $tmp/out ("a.b.0"), or empty
#   hget NAME                  a header of the last answer, or empty
#   poll KEY ID                polls the job to a final state; prints it
#   wait_state KEY ID STATE    polls until the job is in STATE (about 5 s
#                              at most); the last answer is in $tmp/out
#   wait_log PATTERN           waits (about 2 s at most) for the server's
#                              stderr to show PATTERN

mkkey() {
  "$NEROX" keys create --account "$1" --plan "${3:-pro}" --scopes "$2" \
    --db "${4:-$db}" | tail -n 1
}

serve_start() {
  local dbfile=$1
  shift
  serve_spawn "$NEROX" serve --listen 127.0.0.1:0 --db "$dbfile" "$@"
}

serve_spawn() {
  : >"$tmp/serve.err"
  (cd "${SERVE_DIR:-.}" && exec "$@" 2>>"$tmp/serve.err") &
  pid=$!
  trap 'kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' EXIT
  port=""
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
      "$tmp/serve.err" | tail -n 1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    e2e_bad "server started"
    sed 's/^/  | /' "$tmp/serve.err"
    return 1
  fi
  base="http://127.0.0.1:$port"
}

serve_stop() {
  kill -"${1:-TERM}" "$pid" 2>/dev/null
  wait "$pid"
  serve_rc=$?
  trap - EXIT
}

req() {
  local args=(-s -o "$tmp/out" -D "$tmp/hdr" -w '%{http_code}' -X "$1"
              --max-time 20)
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' \
    --data-binary "$4")
  # shellcheck disable=SC2206
  [ -n "${REQ_HEADERS:-}" ] && args+=($REQ_HEADERS)
  curl "${args[@]}" "$base$2"
}

jget() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[int(k) if isinstance(d,list) else k]
print("null" if d is None else d)' "$tmp/out" "$1" 2>/dev/null
}

hget() {
  tr -d '\r' <"$tmp/hdr" | awk -v n="$1" \
    'BEGIN{IGNORECASE=1} tolower($0) ~ "^" tolower(n) ":" {
       sub(/^[^:]*: */, ""); v=$0 } END{print v}'
}

poll() {
  local s
  for _ in $(seq 300); do
    req GET "/v1/jobs/$2" "$1" >/dev/null
    s=$(jget status)
    case "$s" in queued|running) sleep 0.1 ;; *) echo "$s"; return ;; esac
  done
  echo "$s"
}

wait_state() {
  for _ in $(seq 250); do
    req GET "/v1/jobs/$2" "$1" >/dev/null
    [ "$(jget status)" = "$3" ] && return
    sleep 0.02
  done
}

wait_log() {
  for _ in $(seq 100); do
    grep -q -- "$1" "$tmp/serve.err" && return
    sleep 0.02
  done
}
