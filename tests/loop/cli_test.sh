#!/bin/sh
# cli_test.sh VMSTRESS GUEST_DIR WORKDIR - the run/replay command line:
# exit codes, --json, --jobs, --quiet, and one-line errors on bad input.
set -u
vm=$1 guest=$2 work=$3
export VMSTRESS_GUEST_DIR=$guest
fails=0 passes=0
check() { # check NAME EXPECTED_STATUS COMMAND... (stdout+stderr in $out)
  name=$1 want=$2
  shift 2
  out=$("$@" 2>&1)
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: status $got, want $want: $out"; fails=$((fails + 1))
  else
    passes=$((passes + 1))
  fi
}
one_line() { # the last check printed exactly one line mentioning $1
  if [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || ! printf '%s' "$out" | grep -q -- "$1"; then
    echo "FAIL one-line error naming '$1': $out"; fails=$((fails + 1))
  else
    passes=$((passes + 1))
  fi
}
rm -rf "$work"; mkdir -p "$work"

check quiet-clean 0 "$vm" run --checkpoints 100 --quiet --results "$work/r"
[ -z "$out" ] || { echo "FAIL --quiet printed: $out"; fails=$((fails + 1)); }
check summary 0 "$vm" run --checkpoints 100 --results "$work/r"
printf '%s' "$out" | grep -q "100 checkpoints.*0 divergences" || { echo "FAIL summary: $out"; fails=$((fails + 1)); }
check json 0 "$vm" run --checkpoints 50 --json --results "$work/r"
printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="clean" and d["checkpoints"]==50 and "phases" in d' \
  || { echo "FAIL json: $out"; fails=$((fails + 1)); }
check jobs 0 "$vm" run --checkpoints 50 --jobs 2 --results "$work/r"
[ "$(printf '%s\n' "$out" | grep -c '0 divergences')" -eq 2 ] || { echo "FAIL jobs: $out"; fails=$((fails + 1)); }
check help 0 "$vm" run --help
printf '%s' "$out" | grep -q -- "--interval-min" || { echo "FAIL help"; fails=$((fails + 1)); }

check bad-option 2 "$vm" run --bogus;                      one_line "bogus"
check bad-number 2 "$vm" run --seed 12x;                   one_line "12x"
check bad-interval 2 "$vm" run --interval-min 9 --interval-max 3; one_line "interval-min"
check bad-jobs 2 "$vm" run --jobs 0;                       one_line "jobs"
check bad-workload 2 "$vm" run --workload nosuch;          one_line "nosuch"
check bad-board 2 "$vm" run --board nosuch --checkpoints 1; one_line "nosuch"
check bad-firmware 2 "$vm" run --firmware "$work" --checkpoints 1; one_line "$work"
check bad-plant 2 "$vm" run --plant pl011=nosuch --checkpoints 1; one_line "pl011=nosuch"
check replay-missing 2 "$vm" replay "$work/none.json";     one_line "none.json"
printf '{"vmstress_reproducer":1,"board":"vmstress-m0","seed":1}' > "$work/bad.json"
check replay-bad 2 "$vm" replay "$work/bad.json";          one_line "firmware"
check replay-args 2 "$vm" replay;                          one_line "reproducer"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
