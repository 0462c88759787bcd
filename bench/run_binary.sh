#!/usr/bin/env bash
# Benchmark of the binary kernel: 10 seeds per G-set and bqp instance
# under the time budgets of issue 4, and the flip rates, written to
# bench/results/binary_cpu.md (SOLVER=gpu: binary_gpu.md, the Vulkan
# backend on whatever device nerox picks).
#
#   bench/run_binary.sh [BUILD_DIR]        (default: build)
#
# SEEDS=N overrides the number of seeds; QUICK=1 skips the 30 s G22 runs.
# Run it on an otherwise idle machine: other processes on the cores lower
# the flip rates and the quality at a given budget; the load average is
# recorded beside the figures.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bench=$build/bench/bench_binary
data=${NEROX_DATA_DIR:-$root/../shared/data}
seeds=${SEEDS:-10}
solver=${SOLVER:-cpu}
out=$root/bench/results/binary_$solver.md

if [ ! -x "$bench" ]; then
  echo "run_binary.sh: $bench not found; build the bench_binary target" >&2
  exit 1
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
b() {
  "$bench" --data "$data" --seeds "$seeds" --solver "$solver" "$@" \
    | tee -a "$tmp"
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
section() { printf '\n## %s\n\n' "$1" | tee -a "$tmp"; }

bqp() { for k in 1 2 3 4 5 6 7 8 9 10; do echo "bqp$1.$k"; done; }

{
  echo "# binary kernel, $solver backend"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo \
    | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%d)."
  echo "Load average (1, 5, 15 min) at the start: $(load)."
  echo "Default replicas and ladder, all cores; seeds 1..$seeds; a seed"
  echo "stops when it reaches the target. Values are cut weights (G-set)"
  echo "or the OR-Library objective (bqp), to maximise. M flips/s counts"
  echo "attempted flips (sweeps x n x replicas) per wall second, M flips/"
  echo "cpu-s per CPU second of all threads (less sensitive to load)."
} >"$tmp"

section "G-set, issue 4 budgets"
b --header --time 1 G1 G43
b --time 5 --target 13355 G22
if [ "${QUICK:-0}" != 1 ]; then
  b --time 30 G22
fi
b --time 1 G11 G14

section "bqp250 (2 s) and bqp50 (0.2 s)"
# shellcheck disable=SC2046
b --header --time 2 $(bqp 250)
# shellcheck disable=SC2046
b --time 0.2 $(bqp 50)

if [ "$solver" = gpu ]; then
  section "Flip rate on G22 (no target, 3 s)"
  b --seeds 3 --time 3 --no-target --header G22
  echo | tee -a "$tmp"
  threads=()
else
  section "Flip rate on G22 (no target, 3 s), by threads"
  threads=(0 1)
fi
for t in "${threads[@]}"; do
  echo "threads $t (0 = all cores):" | tee -a "$tmp"
  echo | tee -a "$tmp"
  "$bench" --data "$data" --seeds 3 --time 3 --no-target --threads "$t" \
    --header G22 | tee -a "$tmp"
  echo | tee -a "$tmp"
done

echo "Load average at the end: $(load)." | tee -a "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out"
