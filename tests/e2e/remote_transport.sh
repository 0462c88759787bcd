#!/usr/bin/env bash
# End-to-end: the remote SDK's transport against a fake server
# (fake_server.py) that does what a real one rarely does on cue: events
# split at odd bytes, a stream that stalls open, streams dropped
# mid-event, heartbeats and retry: lines, 429s with every form of
# Retry-After, and a submit whose connection drops (the retries must send
# the same Idempotency-Key). Then an error in a task nobody gathers.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
dir=$(dirname "$0")
. "$dir/common.bash"
tmp=$(e2e_tmpdir e2e-remote-transport)

python3 "$dir/fake_server.py" "$tmp/port" &
fake=$!
trap 'kill "$fake" 2>/dev/null; wait "$fake" 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
export FAKE_URL="http://127.0.0.1:$(cat "$tmp/port")"

NEROX_STREAM_STALL_S=1 timeout 60 "$NEROX" run "$dir/remote_transport.lua" \
  >"$tmp/out" 2>"$tmp/err"
e2e_expect_eq "$?" 0 "the transport script runs"
sed 's/^/  err| /' "$tmp/err" | head -20
out="$tmp/out"

six="1:p:99 2:p:98 3:p:97 4:p:96 5:p:95 6:s:94"
five="1:p:99 2:p:98 3:p:97 4:p:96 5:s:95"
e2e_expect_grep "$out" "^split	$six	connections=1	" \
  "events split mid-line, mid-CRLF, mid-blank-line and mid-UTF-8"
e2e_expect_grep "$out" "^stall	$six	connections=2	last-event-id=-,3$" \
  "a stalled stream reconnects with Last-Event-ID"
e2e_expect_grep "$out" "^stall detected within the stall time	ok" \
  "the stall is found within NEROX_STREAM_STALL_S"
for c in drop chunk; do
  e2e_expect_grep "$out" "^$c	$five	connections=2	last-event-id=-,2$" \
    "$c mid-event: no event repeated or skipped"
  e2e_expect_grep "$out" "^$c: reconnect after retry:	ok" \
    "$c: the reconnect waits the stream's retry:"
done
e2e_expect_grep "$out" "^beat	1:p:99 2:p:98 3:s:97	connections=1	" \
  "heartbeats: one connection"
e2e_expect_grep "$out" "^heartbeats keep a quiet stream	ok" \
  "heartbeats are not a stall"

for c in secs future past negative huge garbled missing reset; do
  e2e_expect_grep "$out" "^ra-$c	RateLimitError	status=429" \
    "Retry-After $c: RateLimitError"
  e2e_expect_grep "$out" "^ra-$c retry_after	ok" \
    "Retry-After $c: retry_after sane"
  e2e_expect_grep "$out" "^ra-$c wait	ok" "Retry-After $c: wait measured"
done
for c in secs future past negative garbled missing reset; do
  e2e_expect_grep "$out" "^ra-$c retried	ok" "Retry-After $c: retried"
  e2e_expect_grep "$out" "^ra-$c delay	ok" "Retry-After $c: delay"
done
e2e_expect_grep "$out" "^ra-huge retried	raised at once" \
  "a Retry-After over the policy's cap is not waited out"

e2e_expect_grep "$out" "^submit	job-submit$" "a dropped submit succeeds"
e2e_expect_grep "$out" "^submit attempts	4$" "dropped, dropped, 503, 202"
e2e_expect_grep "$out" "^transport retries reuse the key	ok" \
  "the SDK's retry of a dropped connection sends the same key"
e2e_expect_grep "$out" "^policy retries reuse the key	ok" \
  "nerox.retry's later attempt sends the same key"
e2e_expect_grep "$out" "^a new submit has a new key	ok" \
  "each new submit has its own key"

# An error in a task nobody gathers is reported, once; gathered or read
# errors are not.
cat >"$tmp/task.lua" <<'LUA'
io.stdout:setvbuf("no")
local nerox = require "nerox"
local lost = nerox.async(function() error("lost boom") end)
local seen = nerox.async(function() error("seen boom") end)
local read = nerox.async(function() error("read boom") end)
local ok = nerox.async(function() return 1 end)
print("gather", pcall(nerox.gather, {seen, ok}))
nerox.sleep(0.01)
print("error read", read:error() ~= nil)
lost = nil
collectgarbage()
print("after collect")
nerox.async(function() error("at exit boom") end)
nerox.sleep(0.01)
LUA
"$NEROX" run "$tmp/task.lua" >"$tmp/task.err" 2>&1
e2e_expect_eq "$?" 0 "a lost task error does not fail the script"
e2e_expect_grep "$tmp/task.err" \
  "^nerox: task error not gathered: .*lost boom" "collected: reported"
e2e_expect_grep "$tmp/task.err" \
  "^nerox: task error not gathered: .*at exit boom" "at exit: reported"
e2e_expect_eq "$(grep -c 'not gathered' "$tmp/task.err")" 2 \
  "gathered and read errors are not reported"
e2e_expect_eq "$(grep -o -e 'lost boom' -e 'after collect' -e 'exit boom' \
  "$tmp/task.err" | tr '\n' ,)" "lost boom,after collect,exit boom," \
  "reported when collected, or when the script ends"

e2e_finish
