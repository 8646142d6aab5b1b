#!/bin/sh
# expect_divergence.sh REGEX RESULTS_DIR COMMAND...
# Passes when COMMAND exits 1 (a divergence), its report matches REGEX, the
# results folder holds the report, both streams and a reproducer, and
# `replay` of that reproducer finds the same divergence again.
set -u
regex=$1 dir=$2
shift 2
rm -rf "$dir"
out=$("$@" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 1 ]; then
  echo "FAIL: expected exit status 1 (divergence), got $status"
  exit 1
fi
flat=$(printf '%s' "$out" | tr '\n' ' ')
if ! printf '%s' "$flat" | grep -Eq "$regex"; then
  echo "FAIL: report does not match: $regex"
  exit 1
fi
for f in report.json a.bin b.bin repro.json trace.txt; do
  [ -s "$dir/$f" ] || { echo "FAIL: missing $dir/$f"; exit 1; }
done
grep -q "last .* guest instructions" "$dir/trace.txt" || { echo "FAIL: trace.txt has no instructions"; exit 1; }
replay=$("$1" replay "$dir/repro.json" 2>&1)
status=$?
printf '%s\n' "$replay"
if [ "$status" -ne 1 ] || ! printf '%s' "$replay" | grep -q "reproduced the same divergence"; then
  echo "FAIL: replay did not reproduce the same divergence (status $status)"
  exit 1
fi
echo "PASS"
