# Helpers for the end-to-end tests (sourced). Each check prints a line;
# e2e_finish prints "N passed, N failed" and sets the exit status.
e2e_passed=0
e2e_failed=0

e2e_tmpdir() {
  local d="${NEROX_TEST_TMP:-/tmp/nerox-tests}/$1"
  rm -rf "$d" && mkdir -p "$d" && echo "$d"
}

e2e_ok() { e2e_passed=$((e2e_passed + 1)); echo "ok: $1"; }
e2e_bad() { e2e_failed=$((e2e_failed + 1)); echo "FAILED: $1"; }

e2e_expect_eq() {
  if [ "$1" = "$2" ]; then e2e_ok "$3"
  else e2e_bad "$3 (got '$1', expected '$2')"; fi
}

e2e_expect_grep() {
  if grep -qE -- "$2" "$1"; then e2e_ok "$3"
  else e2e_bad "$3 (no /$2/ in $1:)"; sed 's/^/  | /' "$1" | head -20; fi
}

e2e_finish() {
  echo "$e2e_passed passed, $e2e_failed failed"
  [ "$e2e_failed" -eq 0 ]
}
