#!/bin/sh
# cli_findings.sh PLANTED VMSTRESS GUEST_DIR WORKDIR - a finding's evidence and its
# replay anywhere: results folders with parents, every file written before
# the report, a reproducer that names its firmware by build-relative name
# and hash, replayed from another folder and another "build"; exit codes
# 1 same / 3 different / 2 refused.
set -u
vm=$1 plain=$2 guest=$3 work=$4
export VMSTRESS_GUEST_DIR=$guest
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/lib.sh"
plant="--plant pl011=pl011-missing-field --seed 7 --checkpoints 50"

# Results folder with parents; every piece of evidence there; hint names this binary.
check deep 1 "$vm" run $plant --results "$work/a/b/c"
for f in report.json a.bin b.bin trace.txt repro.json log.txt; do
  [ -s "$work/a/b/c/$f" ] && pass || fail "deep: missing $f"
done
has hint "$out" "replay: vmstress-planted replay $work/a/b/c/repro.json"
has log "$(cat "$work/a/b/c/log.txt")" "DIVERGENCE \(shadow-diff\).*"
# --jobs writes DIR/seed-<s>/ for each seed, parents created.
check jobs 1 "$vm" run $plant --jobs 2 --results "$work/j/k"
for s in 7 8; do
  [ -s "$work/j/k/seed-$s/repro.json" ] && [ -s "$work/j/k/seed-$s/log.txt" ] && pass || fail "jobs: seed-$s evidence"
done
has jobs-total "$out" "total: 2 jobs, .* 2 with a divergence"
# A folder that cannot be made: exit 2, one line naming it, before any run.
: > "$work/file"
check not-a-folder 2 "$vm" run $plant --results "$work/file/x";   one_line "$work/file"

# The reproducer: build-relative firmware, its hash, the program, the plants.
python3 - "$work/a/b/c/repro.json" <<'PY' && pass || fail "repro.json keys"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["firmware"] == "guest/all.elf", r["firmware"]
assert len(r["firmware_fnv1a64"]) == 16 and r["program"] == "vmstress-planted", r
assert r["overrides"] == ["pl011=pl011-missing-field"] and r["stop_cycle"] >= r["checkpoints"][-1], r
PY

# Replay from another folder, and against another build's copy of the firmware.
mkdir -p "$work/elsewhere" "$work/otherbuild/guest"
cp "$work/a/b/c/repro.json" "$work/elsewhere/"
cp "$guest/all.elf" "$work/otherbuild/guest/"
check replay-elsewhere 1 sh -c "cd '$work/elsewhere' && '$vm' replay repro.json"
has same "$out" "reproduced the same divergence"
check replay-other-build 1 env VMSTRESS_GUEST_DIR="$work/otherbuild/guest" "$vm" replay "$work/elsewhere/repro.json" --quiet
# A different divergence than recorded: exit 3.
sed 's/"expect_field": "cr"/"expect_field": "lcr_h"/' "$work/elsewhere/repro.json" > "$work/elsewhere/other.json"
check replay-different 3 "$vm" replay "$work/elsewhere/other.json"
has different "$out" "found a DIFFERENT divergence"
check replay-different-json 3 "$vm" replay "$work/elsewhere/other.json" --json
printf '%s' "$out" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["replay"]=="different" and d["status"]=="divergence", d' \
  && pass || fail "replay-different-json: $out"
check replay-same-json 1 "$vm" replay "$work/elsewhere/repro.json" --json
printf '%s' "$out" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["replay"]=="same", d' \
  && pass || fail "replay-same-json: $out"
# Refusals: another firmware (hash), a missing one, a reproducer beyond the caps, the wrong binary.
check replay-hash 2 "$vm" replay "$work/elsewhere/repro.json" --firmware "$guest/hello.elf"; one_line "FNV-1a 64"
check replay-nofw 2 env VMSTRESS_GUEST_DIR="$work/nowhere" "$vm" replay "$work/elsewhere/repro.json"; one_line "guest/all.elf"
sed 's/"stop_cycle": [0-9]*/"stop_cycle": 1/; s/"checkpoints": \[/"checkpoints": [1, 2000000000000, /' \
  "$work/elsewhere/repro.json" > "$work/elsewhere/huge.json"
check replay-unbounded 2 "$vm" replay "$work/elsewhere/huge.json"; one_line "at most\|1\.\."
check replay-wrong-binary 2 "$plain" replay "$work/elsewhere/repro.json"
one_line "replay it with vmstress-planted"
finish
