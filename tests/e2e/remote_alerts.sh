#!/usr/bin/env bash
# The SDK's Prometheus alerting rules: `promtool check rules` accepts
# examples/prometheus/alerts.yml and `promtool test rules` shows that the
# error-rate (> 1 %) and p99-latency (> SLA) alerts fire when they should
# and only then.
set -uo pipefail
. "$(dirname "$0")/common.bash"
cd "${NEROX_SOURCE_DIR:-.}"
if ! command -v promtool >/dev/null; then
  e2e_bad "promtool is installed"; e2e_finish; exit
fi
out=$(promtool check rules examples/prometheus/alerts.yml 2>&1)
if [ $? -eq 0 ]; then e2e_ok "promtool check rules"
else e2e_bad "promtool check rules"; echo "$out"; fi
out=$(promtool test rules tests/e2e/remote_alerts_test.yml 2>&1)
if [ $? -eq 0 ]; then e2e_ok "promtool test rules"
else e2e_bad "promtool test rules"; echo "$out"; fi
e2e_finish
