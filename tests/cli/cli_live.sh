#!/bin/sh
# cli_live.sh VMSTRESS GUEST_DIR WORKDIR - live migration on the command
# line: `vmstress dirty` (rate and QEMU's convergence rule, both ways, bad
# units), `save --precopy` read back by `decode` (every byte) and `load`,
# a truncated live stream refused in one line, and `run --precopy
# --dirty-log --json`.
set -u
vm=$1 guest=$2 work=$3
export VMSTRESS_GUEST_DIR=$guest
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/lib.sh"

# At QEMU's defaults (128 MiB/s, 300 ms) 64 KiB of SRAM goes in one pass.
check dirty 0 "$vm" dirty "$guest/all.elf" --cycles 2000000
has dirty "$out" "20 intervals of 100000 cycles"
has dirty-rate "$out" "[0-9]+ pages/s, [0-9]+ bytes/s of guest time"
has dirty-defaults "$out" "pre-copy at 134217728 bytes/s, max downtime 300.0 ms"
has dirty-converges "$out" "converges after 1 pass; downtime [0-9.]+ ms"
# 1 MiB/s with 1 ms: 3 pages stay dirty after every pass, more than 1 ms drains.
check dirty-never 1 "$vm" dirty "$guest/all.elf" --cycles 1000000 --bandwidth 1M --max-downtime 1ms
has dirty-never "$out" "never converges: after 30 passes"
for bad in "--bandwidth 0" "--bandwidth 5x" "--max-downtime -1" "--max-downtime 3h"; do
  check "dirty $bad" 2 "$vm" dirty "$guest/all.elf" $bad; one_line "${bad%% *}"
done

# A live stream: decode reads every byte of it (it fails otherwise), the
# pages as ram/sram@OFFSET, and a fresh machine loads it.
check save-precopy 0 "$vm" save "$guest/all.elf" --cycles 200000 --precopy -o "$work/live.bin"
has save-precopy "$out" "pre-copy: 3 passes, [0-9]+ pages sent"
check decode-live 0 "$vm" decode "$work/live.bin"
has decode-live-block "$out" "^ram/sram offset=[0-9]+ size=8 ram-block 65536"
has decode-live-zero "$out" "ram/sram@0x8000 offset=[0-9]+ size=1 ram-zero"
has decode-live-dev "$out" "pl011.0/cr offset="
check load-live 0 "$vm" load "$work/live.bin"; has load-live "$out" "^ok$"
head -c 3000 "$work/live.bin" > "$work/cut.bin"
check load-cut 2 "$vm" load "$work/cut.bin"; one_line "section 'ram'"

# The loop: every checkpoint migrates B live; A's dirty pages per interval.
check run-live 0 "$vm" run --precopy --dirty-log --checkpoints 100 --seed 5 --json --results "$work/r"
printf '%s' "$out" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
dl, pc = d["dirty_log"], d["precopy"]
assert d["status"] == "clean" and d["checkpoints"] == 100, d
assert dl["intervals"] == 100 and dl["page_size"] == 1024 and dl["pages"] > 0, dl
assert dl["pages_per_interval_min"] <= dl["pages_per_interval_mean"] <= dl["pages_per_interval_max"], dl
assert sum(dl["pages_per_interval_histogram"].values()) == 100, dl
assert pc["passes"] >= 100 and pc["pages_sent"] >= 64 * 100, pc
' && pass || fail "run-live: $out"
finish
