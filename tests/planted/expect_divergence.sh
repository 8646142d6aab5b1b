#!/bin/sh
# expect_divergence.sh REGEX RESULTS_DIR COMMAND...
# Passes when COMMAND exits 1 (a divergence), its report matches REGEX, the
# results folder holds the report, both streams and a reproducer, and
# `replay` of that reproducer finds the same divergence again.
#
# expect_divergence.sh --lint REGEX COMMAND...
# Passes when COMMAND (a `vmstress lint`) exits 1 (findings) and its FIRST
# line matches REGEX: the first finding names the member planted wrong.
set -u
lint=false
if [ "$1" = "--lint" ]; then
  lint=true
  shift
fi
regex=$1
if $lint; then
  shift 1
else
  dir=$2
  shift 2
  rm -rf "$dir"
fi
out=$("$@" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 1 ]; then
  echo "FAIL: expected exit status 1 (a finding), got $status"
  exit 1
fi
if $lint; then
  flat=$(printf '%s\n' "$out" | head -n 1)
else
  flat=$(printf '%s' "$out" | tr '\n' ' ')
fi
if ! printf '%s' "$flat" | grep -Eq "$regex"; then
  echo "FAIL: report does not match: $regex"
  exit 1
fi
if $lint; then
  echo "PASS"
  exit 0
fi
for f in report.json a.bin b.bin repro.json trace.txt; do
  [ -s "$dir/$f" ] || { echo "FAIL: missing $dir/$f"; exit 1; }
done
# A live migration's evidence includes the stream B was sent and loaded.
case " $* " in *" --precopy "*)
  [ -s "$dir/b-precopy.bin" ] || { echo "FAIL: missing $dir/b-precopy.bin"; exit 1; } ;;
esac
grep -q "last .* guest instructions" "$dir/trace.txt" || { echo "FAIL: trace.txt has no instructions"; exit 1; }
replay=$("$1" replay "$dir/repro.json" 2>&1)
status=$?
printf '%s\n' "$replay"
if [ "$status" -ne 1 ] || ! printf '%s' "$replay" | grep -q "reproduced the same divergence"; then
  echo "FAIL: replay did not reproduce the same divergence (status $status)"
  exit 1
fi
echo "PASS"
