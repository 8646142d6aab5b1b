#!/usr/bin/env bash
# bench_fuzz.sh FUZZ_DIR CORPUS_DIR [runs] - executions per second of
# fuzz_load beside two baselines, one after the other in one run, same
# engine, seeds, libFuzzer seed and flags:
#   fuzz_empty          the engine alone (a target that does nothing)
#   fuzz_baseline_load  the engine plus fuzz_load's machine load, without
#                       its structure-aware mutator and its oracles
#   FUZZ_DIR   the fuzz preset's fuzz/ build folder
#   CORPUS_DIR the checked-in corpus/ folder
# Every run starts from a copy of corpus/fuzz_load; fuzz_load makes `runs`
# executions (default 100000: shorter runs mostly measure start-up), the
# baselines as many again times their speed-up, so each runs for a while.
# --help prints this header.
[ "${1:-}" != --help ] || exec sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
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
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }'; }
read -r load_rate load_n < <(rate fuzz_load "$runs")
read -r base_rate base_n < <(rate fuzz_baseline_load $((runs * 3)))
read -r empty_rate empty_n < <(rate fuzz_empty $((runs * 20)))
line() { printf 'bench_fuzz: %-18s %8d exec/s (%d executions)%s\n' "$@"; }
line fuzz_empty "$empty_rate" "$empty_n" ", the engine alone"
line fuzz_baseline_load "$base_rate" "$base_n" ", $(pct "$base_rate" "$empty_rate")% of empty: the load alone"
line fuzz_load "$load_rate" "$load_n" ", $(pct "$load_rate" "$base_rate")% of the load alone"
printf 'bench_fuzz: fuzz_load runs at %s%% of the empty target (aim: >= 25%%)\n' "$(pct "$load_rate" "$empty_rate")"
