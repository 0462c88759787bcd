#!/usr/bin/env bash
# `nerox run`: arguments reach the script, errors print a traceback and
# exit non-zero, and the embedded SDK loads from any folder.
set -u
. "$(dirname "$0")/common.bash"

tmp=$(e2e_tmpdir run_script)

cat > "$tmp/args.lua" <<'LUA'
print(arg[0], arg[1], arg[2], #arg, select("#", ...))
LUA
out=$("$NEROX" run "$tmp/args.lua" one two)
e2e_expect_eq "$out" "$tmp/args.lua	one	two	2	2" "arguments reach the script"

cat > "$tmp/boom.lua" <<'LUA'
local function inner() error("boom at depth") end
local function outer() inner() end
outer()
LUA
"$NEROX" run "$tmp/boom.lua" >"$tmp/out" 2>"$tmp/err"
e2e_expect_eq "$?" 1 "a script error exits 1"
e2e_expect_grep "$tmp/err" "boom.lua:1: boom at depth" "error names file:line"
e2e_expect_grep "$tmp/err" "stack traceback" "error carries a traceback"
e2e_expect_grep "$tmp/err" "in .*'outer'" "traceback names callers"

cat > "$tmp/errvalue.lua" <<'LUA'
error(setmetatable({}, {__tostring = function() return "custom error" end}))
LUA
"$NEROX" run "$tmp/errvalue.lua" 2>"$tmp/err2"
e2e_expect_eq "$?" 1 "an error value exits 1"
e2e_expect_grep "$tmp/err2" "custom error" "error values print via __tostring"

printf 'local x = = 1\n' > "$tmp/syntax.lua"
"$NEROX" run "$tmp/syntax.lua" 2>"$tmp/err3"
e2e_expect_eq "$?" 1 "a syntax error exits 1"
e2e_expect_grep "$tmp/err3" "syntax.lua:1:" "syntax error names the line"

"$NEROX" run "$tmp/missing.lua" 2>"$tmp/err4"
e2e_expect_eq "$?" 1 "a missing script exits 1"
e2e_expect_grep "$tmp/err4" "missing.lua" "missing script is named"

# The SDK is compiled in: it loads from a folder with no sources around.
printf 'print(require("nerox.core").version())\n' > "$tmp/ver.lua"
out=$(cd "$tmp" && "$NEROX" run ver.lua)
e2e_expect_eq "$out" "$("$NEROX" version | cut -d' ' -f2)" "core loads anywhere"

"$NEROX" bogus 2>/dev/null
e2e_expect_eq "$?" 2 "an unknown command exits 2"

e2e_finish
