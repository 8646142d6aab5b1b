#!/usr/bin/env bash
# ctest fuzz_ossfuzz_build: run build.sh as OSS-Fuzz / ClusterFuzzLite would (clang, libFuzzer,
# ASan) into a scratch $OUT, check every output exists, and run every target
# for 200 executions from its seed corpus.
#   check_build.sh SOURCE_ROOT SCRATCH_DIR
set -euo pipefail
root=$1
scratch=$2
rm -rf "$scratch"
mkdir -p "$scratch/out" "$scratch/work"
# $SRC laid out as in the ClusterFuzzLite image: the checkout as
# $SRC/vmstress, .clusterfuzzlite/build.sh as $SRC/build.sh (it runs
# fuzz/oss-fuzz/build.sh, the OSS-Fuzz script, so both are checked).
mkdir -p "$scratch/src"
ln -s "$root" "$scratch/src/vmstress"
cp "$root/.clusterfuzzlite/build.sh" "$scratch/src/build.sh"
export CC=clang CXX=clang++ SRC=$scratch/src WORK=$scratch/work OUT=$scratch/out
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=fuzzer-no-link,address"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
bash "$SRC/build.sh"

fail=0
targets=$(cd "$OUT" && ls | grep -E '^fuzz_[A-Za-z0-9_-]+$' || true)
[ -n "$targets" ] || { echo "no targets in $OUT"; exit 1; }
for t in $targets; do
  for f in "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
    [ -s "$OUT/$f" ] || { echo "missing or empty: $OUT/$f"; fail=1; }
  done
  seeds=$scratch/run-$t
  mkdir -p "$seeds"
  (cd "$seeds" && unzip -q -o "$OUT/${t}_seed_corpus.zip")
  # Seed replay, then 200 fuzzing executions; a finding fails the test.
  if ! (cd "$scratch" && "$OUT/$t" -runs=200 -seed=1 -dict="$OUT/$t.dict" -max_len=4096 \
          -artifact_prefix="$scratch/$t-" "$seeds" >"$scratch/$t.log" 2>&1); then
    echo "FAILED: $t (log: $scratch/$t.log)"; tail -20 "$scratch/$t.log"; fail=1
  else
    echo "ok: $t ($(grep -c . "$scratch/$t.log") log lines)"
  fi
done
# The slow target must start at its full length limit (fuzz/max_len.sh).
grep -qx 'len_control = 0' "$OUT/fuzz_roundtrip.options" || { echo "fuzz_roundtrip.options: no len_control = 0"; fail=1; }
for want in fuzz_load fuzz_roundtrip; do
  [ -x "$OUT/$want" ] || { echo "missing target $want"; fail=1; }
done
exit $fail
