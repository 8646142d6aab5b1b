#!/usr/bin/env bash
# bench_fuzz.sh FUZZ_DIR CORPUS_DIR [runs] - executions per second of
# fuzz_load beside the empty target fuzz_empty, same engine, same seeds,
# same libFuzzer seed and flags, one after the other in one run.
#   FUZZ_DIR   the fuzz preset's fuzz/ build folder (fuzz_load, fuzz_empty)
#   CORPUS_DIR the checked-in corpus/ folder
# Both start from a copy of corpus/fuzz_load; fuzz_load makes `runs`
# executions (default 100000: shorter runs mostly measure start-up), the
# empty target ten times as many (it is that much faster).
set -euo pipefail
dir=${1:?usage: bench_fuzz.sh FUZZ_DIR CORPUS_DIR [runs]}
corpus=${2:?corpus dir}
runs=${3:-100000}
. "$(dirname "$0")/../fuzz/max_len.sh"
max_len=$(fuzz_max_len fuzz_load)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# target runs -> "exec/s executions": executions from libFuzzer's final
# stats over host wall time (libFuzzer's own figure is in whole seconds).
rate() {
  rm -rf "$work/c" && cp -r "$corpus/fuzz_load" "$work/c"
  local t0 t1 n
  t0=$(date +%s.%N)
  n=$("$dir/$1" -runs="$2" -seed=1 -timeout=10 -max_len="$max_len" -print_final_stats=1 \
        -artifact_prefix="$work/" "$work/c" 2>&1 | awk '/stat::number_of_executed_units/ {print $2}')
  t1=$(date +%s.%N)
  awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d %d\n", n / (b - a), n }'
}
read -r load_rate load_n < <(rate fuzz_load "$runs")
read -r empty_rate empty_n < <(rate fuzz_empty $((runs * 10)))
pct=$(awk -v a="$load_rate" -v b="$empty_rate" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')
printf 'bench_fuzz: fuzz_load  %8d exec/s (%d executions)\n' "$load_rate" "$load_n"
printf 'bench_fuzz: fuzz_empty %8d exec/s (%d executions, same engine and seeds)\n' "$empty_rate" "$empty_n"
printf 'bench_fuzz: fuzz_load runs at %s%% of the empty target (aim: >= 25%%)\n' "$pct"
