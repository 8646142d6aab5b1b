#!/bin/sh
# expect_lint.sh REGEX COMMAND...
# Passes when COMMAND (a `vmstress lint`) exits 1 (findings) and its FIRST
# line matches REGEX: the first finding names the member planted wrong.
set -u
regex=$1
shift
out=$("$@" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 1 ]; then
  echo "FAIL: expected exit status 1 (findings), got $status"
  exit 1
fi
first=$(printf '%s\n' "$out" | head -n 1)
if ! printf '%s' "$first" | grep -Eq "$regex"; then
  echo "FAIL: first line does not match: $regex"
  exit 1
fi
echo "PASS"
