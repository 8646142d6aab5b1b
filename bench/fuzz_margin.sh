#!/usr/bin/env bash
# fuzz_margin.sh FUZZ_DIR CORPUS_DIR TARGET [N1 N2] - a fuzz target's CPU
# time per input at the margin: `perf stat -e task-clock` of N1 and of N2
# executions (default 20000 and 80000), each from a fresh copy of the
# target's seeds with -seed=1 and the target's -max_len (fuzz/max_len.sh),
# then (CPU(N2) - CPU(N1)) / (N2 - N1), so start-up and reading the seeds
# drop out. CPU time, not wall time: on a shared machine wall-clock rates
# vary several-fold. fuzz_empty and fuzz_baseline_load start from
# fuzz_load's seeds, as in bench_fuzz.sh.
#   FUZZ_DIR   the fuzz preset's fuzz/ build folder
#   CORPUS_DIR the checked-in corpus/ folder
# --help prints this header.
[ "${1:-}" != --help ] || exec sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
set -euo pipefail
dir=${1:?usage: fuzz_margin.sh FUZZ_DIR CORPUS_DIR TARGET [N1 N2]}
corpus=${2:?corpus dir}
target=${3:?target}
n1=${4:-20000}
n2=${5:-80000}
. "$(dirname "$0")/../fuzz/max_len.sh"
case $target in
  fuzz_empty|fuzz_baseline_load) seeds=fuzz_load ;;
  *) seeds=$(fuzz_seed_target "$target") ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# runs -> milliseconds of CPU time (task-clock) for that many executions.
cpu_ms() {
  rm -rf "$work/c" && cp -r "$corpus/$seeds" "$work/c"
  perf stat -x, -e task-clock -o "$work/stat" -- "$dir/$target" -runs="$1" -seed=1 -timeout=10 \
    -max_len="$(fuzz_max_len "$target")" -artifact_prefix="$work/" "$work/c" >/dev/null 2>&1
  awk -F, '/task-clock/ {print $1}' "$work/stat"
}
a=$(cpu_ms "$n1")
b=$(cpu_ms "$n2")
awk -v t="$target" -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" 'BEGIN {
  printf "fuzz_margin: %-22s %7.2f us per input (%d runs %.0f ms, %d runs %.0f ms of CPU)\n",
         t, 1000 * (b - a) / (n2 - n1), n1, a, n2, b }'
