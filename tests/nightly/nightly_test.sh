#!/usr/bin/env bash
# A tiny nightly with a planted divergence (the stress loop on
# vmstress-planted) and a planted fuzz crash (planted_crash):
#   end     (ctest nightly_reports) run to the end: exit 1; every finding's
#           evidence in the artefact folder; junit.xml accepted by a JUnit
#           parser (xml.etree) with a test case per job; summary.json
#           figures from the tools; PNG plots; corpus/ untouched.
#   killed  (ctest nightly_killed) killed with SIGKILL (the whole process
#           group) in the middle of its fuzzing: what it found before the
#           kill is on disk.
# Waits are bounded generously: ci/test runs this beside builds and other
# tests on two cores. One job at a time (NIGHTLY_JOBS=1) for the same reason.
# usage: nightly_test.sh end|killed SOURCE_ROOT SCRATCH VMSTRESS_PLANTED GUEST_DIR CRASH_TARGET
set -uo pipefail
mode=$1 root=$2 scratch=$3 planted=$4 guest=$5 target=$6
rm -rf "$scratch" && mkdir -p "$scratch"
fail() { echo "FAIL: $*"; exit 1; }

export VMSTRESS_GUEST_DIR=$guest NIGHTLY_SEED=7 NIGHTLY_VMSTRESS=$planted NIGHTLY_WORKLOADS=all \
  NIGHTLY_STRESS_ARGS="--plant pl011=pl011-missing-field" NIGHTLY_FUZZ_TARGETS=$target \
  FUZZ_MINIMIZE_SECONDS=3 NIGHTLY_STRESS_SECONDS=3 VMSTRESS_WORK=$scratch/work NIGHTLY_JOBS=1
corpus_before=$(git -C "$root" status --porcelain corpus/ 2>/dev/null)

if [ "$mode" = end ]; then
# ---------------------------------------------------------------- to the end
out=$scratch/night1
NIGHTLY_OUT=$out NIGHTLY_PHASES="stress fuzz fields" NIGHTLY_FUZZ_SECONDS=5 \
  timeout -k 5 300 "$root/ci/nightly" 2 >"$scratch/night1.log" 2>&1
rc=$?
[ $rc -eq 1 ] || { tail -20 "$scratch/night1.log"; fail "night 1 exit $rc, want 1 (findings)"; }
ls "$out"/findings/stress-all/seed-*/seed-*/report.json >/dev/null 2>&1 || \
  ls "$out"/findings/stress-all/seed-*/report.json >/dev/null 2>&1 || fail "no stress report.json in $out/findings"
sig=$(ls -d "$out"/findings/fuzz-*/*/ | head -1)
[ -n "$sig" ] || fail "no fuzz finding folder"
for f in regression.bin log.txt signature.txt README.md; do
  [ -s "$sig/$f" ] || fail "fuzz finding without $f ($sig)"
done
[ -n "$(ls -A "$sig/inputs")" ] || fail "fuzz finding without its inputs"
# Every crash input is filed under a signature folder, one folder per
# signature: more inputs than folders shows the de-duplication at work.
python3 - "$out" <<'PY' || exit 1
import json, os, sys
import xml.etree.ElementTree as ET
out = sys.argv[1]
root = ET.parse(os.path.join(out, "junit.xml")).getroot()
assert root.tag == "testsuites", root.tag
cases = {(s.get("name"), c.get("name")): c for s in root for c in s.iter("testcase")}
stress = [c for (s, n), c in cases.items() if s == "nightly.stress"]
fuzz = [c for (s, n), c in cases.items() if s == "nightly.fuzz"]
assert stress and any(c.find("failure") is not None for c in stress), "no failing stress test case"
assert len(fuzz) == 1 and fuzz[0].find("failure") is not None, "fuzz target test case missing or passing"
s = json.load(open(os.path.join(out, "summary.json")))
assert s["exit"] == 1 and s["status"] == "findings", s["status"]
f = s["figures"]
assert f["stress_checkpoints"] > 0 and f["fuzz_executions"] > 0, f
t = list(f["fuzz"].values())[0]
assert t["crash_inputs"] >= t["findings"] >= 1, t
assert f["corpus_streams_accepted"] > 0, "field coverage: no corpus stream accepted"
for p in ("exec-per-second.png", "coverage.png", "checkpoints-per-second.png", "findings.png"):
    with open(os.path.join(out, "plots", p), "rb") as img:
        assert img.read(8) == b"\x89PNG\r\n\x1a\n", p + " is not a PNG"
    assert "plots/" + p in open(os.path.join(out, "index.html")).read(), p + " not in index.html"
assert "never left reset" in open(os.path.join(out, "index.html")).read()
print("night 1: junit %d test cases, %d fuzz executions, %d crash inputs in %d signature(s)"
      % (len(cases), f["fuzz_executions"], t["crash_inputs"], t["findings"]))
PY
[ "$(wc -l <"$scratch/work/history.jsonl")" -eq 1 ] || fail "history.jsonl: want one line after one night"
[ "$(git -C "$root" status --porcelain corpus/ 2>/dev/null)" = "$corpus_before" ] || fail "the nightly wrote into corpus/"
exit 0
fi

# ---------------------------------------------------------------- killed
out=$scratch/night2
NIGHTLY_OUT=$out NIGHTLY_PHASES="stress fuzz" NIGHTLY_FUZZ_SECONDS=300 \
  setsid "$root/ci/nightly" 2 >"$scratch/night2.log" 2>&1 &
pid=$!
found=
for _ in $(seq 1 180); do     # at most 90 s
  if ls "$out"/findings/fuzz-*/*/regression.bin >/dev/null 2>&1; then found=1; break; fi
  sleep 0.5
done
kill -KILL -- -"$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ -n "$found" ] || { tail -20 "$scratch/night2.log"; fail "no fuzz finding within 90 s"; }
grep -q '"suite": "stress", .*"status": "finding"' "$out/jobs.jsonl" || fail "the stress finding was not recorded before the kill"
ls "$out"/findings/stress-all/seed-*/ >/dev/null 2>&1 || fail "stress evidence lost by the kill"
[ -s "$(ls "$out"/findings/fuzz-*/*/regression.bin | head -1)" ] || fail "fuzz evidence lost by the kill"
echo "night 2: killed mid-fuzzing; stress and fuzz evidence on disk"

# A stress job that hangs (a stand-in that never exits) is killed at its
# bound, recorded as an infrastructure failure with its logs, and the night
# ends with exit 2 instead of waiting forever.
out=$scratch/night3
printf '#!/bin/sh\nexec sleep 600\n' >"$scratch/hang" && chmod +x "$scratch/hang"
NIGHTLY_OUT=$out NIGHTLY_PHASES="stress" NIGHTLY_VMSTRESS=$scratch/hang NIGHTLY_STRESS_GRACE=2 \
  NIGHTLY_STRESS_SECONDS=2 timeout -k 5 120 "$root/ci/nightly" 2 >"$scratch/night3.log" 2>&1
rc=$?
[ $rc -eq 2 ] || { tail -5 "$scratch/night3.log"; fail "night with a hung job: exit $rc, want 2"; }
grep -q '"status": "infra", .*killed after' "$out/jobs.jsonl" || fail "the hung job is not recorded as killed"
ls "$out"/findings/stress-all/seed-*/*.err >/dev/null 2>&1 || fail "the hung job's logs are not kept"
echo "night 3: a hung stress job killed at its bound, exit 2"
