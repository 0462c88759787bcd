#!/usr/bin/env bash
# Benchmark of the perm kernel: 10 seeds per TSPLIB instance under the
# issue's time budgets, written to bench/results/perm_cpu.md; with
# --solver gpu, the Vulkan backend on the device nvk picks (lavapipe
# without a GPU) beside the CPU, written to bench/results/perm_gpu_lavapipe.md.
#
#   bench/run_perm.sh [--solver cpu|gpu] [BUILD_DIR]
#                                      (default: build; or BENCH=binary)
#
# SEEDS=N overrides the number of seeds; QUICK=1 runs the small instances
# only. Run it on an otherwise idle machine: other processes on the cores
# lower the proposal rates and the quality at a given budget.
set -euo pipefail

solver=cpu
if [ "${1:-}" = --solver ]; then
  solver=${2:-}
  shift 2
fi
case $solver in
  cpu|gpu) ;;
  *) echo "run_perm.sh: --solver cpu|gpu" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bench=${BENCH:-$build/bench/bench_perm}
data=${NEROX_DATA_DIR:-$root/../shared/data}
seeds=${SEEDS:-10}
out=$root/bench/results/perm_cpu.md

if [ ! -x "$bench" ]; then
  echo "run_perm.sh: $bench not found; build the bench_perm target" >&2
  exit 1
fi

# instance and time budget (seconds), from the issue's acceptance bar
runs=("berlin52 1" "kroA100 5" "ch150 10" "a280 10")
if [ "${QUICK:-0}" != 1 ]; then
  runs+=("pcb442 30" "pr1002 60")
fi

tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.log"' EXIT
b() { "$bench" --data "$data" "$@" 2>>"$tmp.log" | tee -a "$tmp"; }

machine() {
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo \
    | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%d)."
}

# The Vulkan backend: throughput beside the CPU at the same replicas, then
# the quality table on the device (shorter budgets than the CPU's).
gpu_report() {
  out=$root/bench/results/perm_gpu_lavapipe.md
  local device
  device=$("$bench" --data "$data" --seeds 1 --time 0.1 --no-target \
    --solver gpu berlin52 2>&1 >/dev/null | sed -n 's/^  device: //p')
  {
    echo "# perm kernel, Vulkan backend on ${device:-?}"
    echo
    machine
    echo "Same seed, sweeps and replicas give the same tour on both"
    echo "backends (tests/c/test_perm_gpu.c); these tables measure speed."
    echo
    echo "## Throughput beside the CPU (no target, 3 seeds x 3 s)"
    echo
    echo "Replicas 0 is the default (perm_default_replicas); the GPU runs"
    echo "one invocation per replica, 8 per workgroup."
    echo
  } >"$tmp"
  for rep in 0 16 32; do
    for s in cpu gpu; do
      {
        echo
        echo "$s, replicas $rep:"
        echo
      } >>"$tmp"
      b --header --solver "$s" --replicas "$rep" --seeds 3 --time 3 \
        --no-target kroA100 pcb442
    done
  done
  {
    echo
    echo "## Quality on the device (budgets shortened from the CPU's)"
    echo
  } >>"$tmp"
  local first=--header
  for r in "berlin52 1" "kroA100 2" "ch150 4" "a280 4" "pcb442 10"; do
    set -- $r
    echo "load before $1: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$tmp.log"
    b $first --solver gpu --seeds "$seeds" --time "$2" "$1"
    first=
  done
  {
    echo
    echo "Load average before each instance:"
    echo
    grep '^load' "$tmp.log" | sed 's/^/    /' || true
  } >>"$tmp"
  mv "$tmp" "$out"
  trap - EXIT
  rm -f "$tmp.log"
  echo "wrote $out"
}

if [ "$solver" = gpu ]; then
  gpu_report
  exit 0
fi

{
  echo "# perm kernel, CPU backend"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo \
    | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%d)."
  echo "Each seed stops at the time budget or on reaching the optimum;"
  echo "gaps are to the proven optimum; proposals/s are averaged over seeds"
  echo "and include setup (neighbour lists, matrix)."
  echo
} >"$tmp"

first=--header
for r in "${runs[@]}"; do
  set -- $r
  echo "load before $1: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$tmp.log"
  b $first --seeds "$seeds" --time "$2" "$1"
  first=
done

{
  echo
  echo "## Throughput (no target, 3 seeds x 3 s)"
  echo
} >>"$tmp"
b --header --seeds 3 --time 3 --no-target kroA100 pr1002

{
  echo
  echo "## Matrix or coordinates (random instances, 1 seed x 2 s)"
  echo
} >>"$tmp"
first=--header
for metric in EUC_2D ATT; do
  for n in 200 500 1000 2000 5000; do
    for d in matrix coords; do
      b $first --seeds 1 --time 2 --no-target --dist $d --random $n \
        --metric $metric
      first=
    done
  done
done

{
  echo
  echo "Load average before each instance:"
  echo
  grep '^load' "$tmp.log" | sed 's/^/    /'
} >>"$tmp"
rm -f "$tmp.log"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out"
