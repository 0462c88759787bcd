#!/usr/bin/env bash
# End-to-end: Prometheus's own checker accepts the registry's text.
# `test_metrics --render FILE` writes a sample with every kind of line
# (labels, escapes, NaN and infinities, histograms with default and own
# buckets, a family without series, the dropped-samples counter); then
# `promtool check metrics` must exit 0 and print nothing. A bad sample
# must make it complain, so a silent promtool cannot pass the test.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
tmp=$(e2e_tmpdir e2e-metrics-promtool)
# The unit tests build next to the binary, in tests/.
bin="${NEROX_TEST_METRICS:-$(dirname "$NEROX")/tests/test_metrics}"

# Runs promtool on file $1; its exit status and output go to $2.
promtool_check() {
  promtool check metrics <"$1" >"$2" 2>&1
  echo "$?" >"$2.rc"
}

if ! command -v promtool >/dev/null; then
  e2e_bad "promtool on PATH (scripts/setup.sh installs prometheus)"
  e2e_finish
  exit
fi
if [ ! -x "$bin" ]; then
  e2e_bad "test_metrics built at $bin (or set NEROX_TEST_METRICS)"
  e2e_finish
  exit
fi

"$bin" --render "$tmp/sample.txt" 2>"$tmp/render.err"
e2e_expect_eq "$?" 0 "test_metrics --render exits 0"
sed 's/^/  | /' "$tmp/render.err"
e2e_expect_grep "$tmp/sample.txt" '^nerox_metrics_dropped_total\{metric=' \
  "sample has the dropped counter"
e2e_expect_grep "$tmp/sample.txt" '_bucket\{route="[^"]*",le="\+Inf"\} 2$' \
  "sample has a labelled +Inf bucket"
e2e_expect_grep "$tmp/sample.txt" ' NaN$' "sample has NaN"
e2e_expect_grep "$tmp/sample.txt" '^# TYPE nerox_idle_workers gauge$' \
  "sample has a family without series"

promtool_check "$tmp/sample.txt" "$tmp/promtool.out"
e2e_expect_eq "$(cat "$tmp/promtool.out.rc")" 0 "promtool exits 0"
if [ -s "$tmp/promtool.out" ]; then
  e2e_bad "promtool prints nothing:"
  sed 's/^/  | /' "$tmp/promtool.out" | head -20
else
  e2e_ok "promtool prints nothing"
fi

# Controls: a lint problem and a parse error are both reported.
printf '# HELP jobs Jobs.\n# TYPE jobs counter\njobs 1\n' >"$tmp/lint.txt"
promtool_check "$tmp/lint.txt" "$tmp/lint.out"
e2e_expect_grep "$tmp/lint.out" '_total' "promtool reports a lint problem"
printf '# HELP g G.\n# TYPE g gauge\ng{a="x\\q"} 1\n' >"$tmp/parse.txt"
promtool_check "$tmp/parse.txt" "$tmp/parse.out"
if [ "$(cat "$tmp/parse.out.rc")" != 0 ]; then
  e2e_ok "promtool fails on a parse error"
else
  e2e_bad "promtool fails on a parse error"
fi

e2e_finish
