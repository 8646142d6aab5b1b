#!/usr/bin/env bash
# time_to_find.sh TARGET SIGNATURE [cap-seconds] - how long a planted-bug
# target takes to find its bug on one core (libFuzzer, fuzz preset build).
#
#   fuzz/time_to_find.sh fuzz_load_planted 'pl011' 300
#   VMSTRESS_PLANT=pl011-missing-field fuzz/time_to_find.sh fuzz_roundtrip_planted 'pl011' 300
#
# One libFuzzer worker (-fork=1, so unrelated findings do not stop the run)
# from the target's seed corpus; every crash it writes is replayed and the
# first whose report contains SIGNATURE stops the clock. Prints the seconds,
# or "not found" at the cap. Env: FUZZ_BUILD (default build/fuzz), SEED (1),
# SEEDS=none to start from an empty corpus instead of the target's seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: time_to_find.sh TARGET SIGNATURE [cap-seconds]}
sig=${2:?signature}
cap=${3:-300}
build=${FUZZ_BUILD:-build/fuzz}
bin=$PWD/$build/fuzz/$target
[ -x "$bin" ] || { echo "no $bin (build the fuzz preset)" >&2; exit 2; }
. fuzz/max_len.sh
seeds=$(fuzz_seed_target "$target")
max_len=$(fuzz_max_len "$target")
dict=$PWD/$build/fuzz/$target.dict
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
[ "${SEEDS:-yes}" = none ] || cp corpus/"$seeds"/* "$work/corpus/"
start=$(date +%s.%N)
(cd "$work" && exec "$bin" -fork=1 -ignore_crashes=1 -seed="${SEED:-1}" -max_len=$max_len \
   -len_control="$(fuzz_len_control "$target")" \
   -dict="$dict" -max_total_time="$cap" -artifact_prefix="$work/" \
   "$work/corpus" >"$work/log" 2>&1) &
pid=$!
seen=""
while kill -0 $pid 2>/dev/null; do
  sleep 1
  for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
    [ -e "$f" ] || continue
    case " $seen " in *" $f "*) continue ;; esac
    seen="$seen $f"
    # The replay crashes (non-zero) by design: test its output, not a pipe's status.
    report=$("$bin" "$f" 2>&1 || true)
    if grep -q -- "$sig" <<<"$report"; then
      now=$(date +%s.%N)
      printf '%s: found "%s" after %.1f s (one core, cap %s s): %s\n' "$target" "$sig" \
        "$(echo "$now - $start" | bc)" "$cap" "$(basename "$f")"
      cp "$f" "/tmp/$target-found.bin"
      exit 0
    fi
  done
done
echo "$target: \"$sig\" not found within $cap s"
exit 1
