#!/bin/sh
# cli_test.sh VMSTRESS WORKDIR PART ELFDIR - `vmstress qemu run` on real QEMU
# boards, in three parts that ctest runs in parallel:
#   clean    short runs in both modes on lm3s811evb and mps2-an385
#   oracles  a planted corruption the oracle must name (and its replay), a
#            real finding seen only at blind checkpoints still confirmed, a
#            destination that dies while the source stays safe
#   process  SIGTERM with no child and no temporary folder left behind, and
#            one-line errors on bad input
# Exit 77 (skipped) without qemu-system-arm.
set -u
vm=$1 work=$2 part=$3 elfs=$4
command -v qemu-system-arm >/dev/null 2>&1 || { echo "qemu-system-arm not found: skipped"; exit 77; }
bad=0
rm -rf "$work"; mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"   # the driver's temporary folders must all be gone at the end

# expect NAME STATUS COMMAND...: run, keep its output in $out, check the status.
expect() {
  name=$1 status=$2; shift 2
  out=$("$@" 2>&1); got=$?
  [ "$got" -eq "$status" ] || { echo "FAIL $name: exit $got, want $status: $out"; bad=$((bad + 1)); }
}
# has NAME PYTHON-EXPR: the JSON in $out satisfies the expression on d.
has() {
  printf '%s' "$out" | python3 -c "import json,sys; d=json.loads(sys.stdin.read().splitlines()[0]); sys.exit(0 if ($2) else 1)" \
    || { echo "FAIL $1: $out"; bad=$((bad + 1)); }
}
# oneline NAME WORD: $out is exactly one line and mentions WORD.
oneline() {
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s' "$out" | grep -q -- "$2" \
    || { echo "FAIL $1: want one line naming '$2': $out"; bad=$((bad + 1)); }
}

if [ "$part" = clean ]; then
for board in lm3s811evb mps2-an385; do
  expect "$board-snapshot" 0 "$vm" qemu run --machine "$board" --mode snapshot --checkpoints 8 --json --results "$work/r"
  has "$board-snapshot" 'd["status"] == "clean" and d["checkpoints"] >= 8'
  # UART input: one byte per checkpoint, each taken by the guest before the next.
  has "$board-snapshot-input" 'd["uart_bytes_in"] == d["checkpoints"]'
  expect "$board-migrate" 0 "$vm" qemu run --machine "$board" --mode migrate --checkpoints 2 --json --results "$work/r"
  has "$board-migrate" 'd["status"] == "clean" and d["checkpoints"] >= 2'
  has "$board-migrate-input" 'd["uart_bytes_in"] == d["checkpoints"]'
done
fi

if [ "$part" = oracles ]; then
# Planted: GPIO A's direction register flipped in B's stream before the
# destination loads it. The oracle must name the section and the field.
expect planted 1 "$vm" qemu run --machine lm3s811evb --mode migrate --checkpoints 2 \
  --corrupt pl061.0/dir:0x10:1 --json --results "$work/planted"
has planted 'd["finding"]["oracle"] == "state-equality" and d["finding"]["path"] == "pl061.0/dir" and d["finding"]["a"] != d["finding"]["b"]'
# Confirmed at a later checkpoint that is settled (a timer expired in both);
# which one depends on where the stops land: a checkpoint whose expired-timer
# lists are empty is blind and cannot confirm (docs/qemu.md), so the run
# goes on past --checkpoints until one can.
has planted-settled 'd["finding"]["detail"].startswith("confirmed at checkpoint ") and int(d["finding"]["detail"].split()[3].rstrip(":")) > d["finding"]["checkpoint"]'
for f in report.json repro.json a.bin b.bin uart-a.log uart-b.log stderr-a.log stderr-b.log; do
  [ -f "$work/planted/$f" ] || { echo "FAIL planted: no $f"; bad=$((bad + 1)); }
done
expect replay 1 "$vm" replay "$work/planted/repro.json" --results "$work/replayed" --json
has replay 'd["finding"]["path"] == "pl061.0/dir"'

# microbit-counting's only armed QEMU timer is the RNG's, which no stream
# carries: every checkpoint is blind and cannot confirm, so its real finding
# (the RNG stops after a round trip, docs/qemu.md) is confirmed by
# persisting over the 8 checkpoints after it.
expect blind 1 "$vm" qemu run --machine microbit --firmware "$elfs/microbit-counting.elf" --mode snapshot \
  --checkpoints 2 --json --results "$work/blind"
has blind 'd["finding"]["checkpoint"] == 2 and "none settled" in d["finding"]["detail"] and d["blind_checkpoints"] >= 9'

# A destination that rejects its stream (the machine name in its configuration section damaged) is a
# finding with QEMU's reason, and A stays equal to a never-migrated twin.
expect death 1 "$vm" qemu run --machine lm3s811evb --mode migrate --checkpoints 1 --corrupt configuration/name:0x01:1 \
  --results "$work/death"
printf '%s' "$out" | grep -q "destination-death" && grep -q '"source_safe": true' "$work/death/report.json" \
  && grep -q "load of migration failed" "$work/death/report.json" \
  || { echo "FAIL death: $out"; bad=$((bad + 1)); }
fi

if [ "$part" = process ]; then
# SIGTERM mid-run: exit status 2, both QEMUs ended, temporary folder gone.
"$vm" qemu run --machine lm3s811evb --checkpoints 1000000 --quiet --results "$work/r" 2>"$work/term.err" &
pid=$!
kids=""
i=0
while [ $i -lt 100 ]; do   # up to 10 s for both twins to start
  kids=$(cat /proc/$pid/task/*/children 2>/dev/null)
  [ "$(echo $kids | wc -w)" -ge 2 ] && break
  sleep 0.1; i=$((i + 1))
done
sleep 0.3
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then echo "FAIL sigterm: vmstress still running"; kill -KILL $pid; bad=$((bad + 1)); fi
wait $pid; st=$?
[ "$st" -eq 2 ] || { echo "FAIL sigterm: exit $st, want 2: $(cat "$work/term.err")"; bad=$((bad + 1)); }
[ "$(echo $kids | wc -w)" -ge 2 ] || { echo "FAIL sigterm: never saw two QEMU children"; bad=$((bad + 1)); }
for k in $kids; do
  kill -0 "$k" 2>/dev/null && { echo "FAIL sigterm: child $k survived"; kill -KILL "$k"; bad=$((bad + 1)); }
done

# --jobs: two pairs in parallel, two summaries.
expect jobs 0 "$vm" qemu run --machine lm3s811evb --checkpoints 2 --jobs 2 --results "$work/jobs"
[ "$(printf '%s\n' "$out" | grep -c 'checkpoints clean')" -eq 2 ] || { echo "FAIL jobs: $out"; bad=$((bad + 1)); }

# Bad input: exit 2 and one line naming what is wrong.
expect no-machine 2 "$vm" qemu run;                                         oneline no-machine "--machine"
expect bad-mode 2 "$vm" qemu run --machine lm3s811evb --mode sideways;      oneline bad-mode "sideways"
expect bad-every 2 "$vm" qemu run --machine lm3s811evb --every 0;           oneline bad-every "--every"
expect no-board 2 "$vm" qemu run --machine nosuchboard --quiet;             oneline no-board "nosuchboard"
expect no-fw 2 "$vm" qemu run --machine lm3s811evb --firmware "$work/none.elf"; oneline no-fw "none.elf"
expect no-qemu 2 "$vm" qemu run --machine lm3s811evb --qemu "$work/no-qemu"; oneline no-qemu "no-qemu.*not found"
expect bad-board 2 "$vm" qemu run --machine no-such-board --firmware "$(dirname "$vm")/../../guest/qemu/lm3s811evb.elf"
oneline bad-board "ended"
expect corrupt-snapshot 2 "$vm" qemu run --machine lm3s811evb --corrupt pl061.0/dir;  oneline corrupt-snapshot "migrate"
printf 'garbage' > "$work/bad.json"
expect bad-repro 2 "$vm" replay "$work/bad.json"
fi

left=$(ls -A "$work/tmp")
[ -z "$left" ] || { echo "FAIL temporary folders left behind: $left"; bad=$((bad + 1)); }
[ $bad -eq 0 ] && echo "qemu cli ($part): all passed"
exit $bad
