#!/bin/sh
# cli_everyday.sh VMSTRESS GUEST_DIR WORKDIR - the everyday command line:
# --version, list, bounds and --duration units, honest exits, inputs that
# are not regular files, the vmdescription cap, --jobs with --json, the
# combined progress line on a terminal, and Ctrl-C.
set -u
vm=$1 guest=$2 work=$3
export VMSTRESS_GUEST_DIR=$guest
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/lib.sh"

check version 0 "$vm" --version;           has version "$out" "^vmstress [0-9]+\.[0-9]+\.[0-9]+"
check list 0 "$vm" list
for want in "^boards:" "vmstress-m0-small" "^machine-types:" "^workloads:" "^  all$" "^devices:" "pl011 " "sp804 "; do
  printf '%s\n' "$out" | grep -Eq -- "$want" && pass || fail "list: no /$want/"
done
check list-one 0 "$vm" list devices;       has list-one "$out" "^devices:"
check list-bad 2 "$vm" list bogus;         one_line "bogus"

# Bounds: zero, negative and garbage are usage errors; units are accepted.
for b in "--duration 0" "--duration -5" "--duration 10x" "--duration 1h5" "--duration s" "--cycles 0" \
         "--checkpoints 0" "--checkpoints -1" "--interval 0" "--cycles 1e6"; do
  check "bound $b" 2 "$vm" run $b --results "$work/r"; one_line "${b%% *}"
done
for d in 30 30s 10m 1h; do
  check "duration $d" 0 "$vm" run --duration "$d" --checkpoints 20 --quiet --results "$work/r"
done

# Honest exits: runs that tested nothing are errors, with the reason.
python3 "$(dirname "$0")/tiny_elf.py" "$work/lockup.elf" lockup
python3 "$(dirname "$0")/tiny_elf.py" "$work/fail.elf" fail
check lockup 2 "$vm" run --firmware "$work/lockup.elf" --checkpoints 5 --results "$work/r"; one_line "locked up at cycle 0"
check guest-fails 2 "$vm" run --firmware "$work/fail.elf" --checkpoints 1000 --results "$work/r"; one_line "guest exited with code 1 .* after [1-9][0-9]* checkpoints"
check exits-early 2 "$vm" run --firmware "$guest/hello.elf" --checkpoints 5 --results "$work/r"; one_line "before the first checkpoint"
check no-checkpoint 2 "$vm" run --cycles 500 --interval 1000 --results "$work/r"; one_line "no checkpoint reached"

# Inputs that are not regular files are refused at once (no hang), in one line.
mkfifo "$work/fifo"
check fifo-load 2 "$vm" load "$work/fifo";                 one_line "is a FIFO"
check fifo-run 2 "$vm" run --firmware "$work/fifo" --checkpoints 1; one_line "is a FIFO"
check fifo-replay 2 "$vm" replay "$work/fifo";             one_line "is a FIFO"
check fifo-exec 2 "$vm" exec "$work/fifo";                 one_line "is a FIFO"
check fifo-report 2 "$vm" report "$work/fifo";             one_line "is a FIFO"
check stdin-firmware 2 "$vm" run --firmware - --checkpoints 1; one_line "cannot be read more than once"
check dir-load 2 "$vm" load "$work";                       one_line "is a directory"
check dev-load 2 "$vm" load /dev/zero;                     one_line "character device"

# Load: "ok" on stdout; errors on stderr only; standard input as "-".
check save 0 "$vm" save "$guest/hello.elf" --cycles 2000 -o "$work/s.bin"
check load-stdin 0 sh -c "'$vm' load - < '$work/s.bin'"; has load-stdin "$out" "^ok$"
head -c 100 "$work/s.bin" > "$work/cut.bin"
check load-cut 2 "$vm" load "$work/cut.bin";              one_line "truncated at offset"
# A 4 MiB vmdescription trailer is refused at its length, quickly and in one line.
python3 - "$work/s.bin" "$work/big.bin" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
i = len(b)
while True:   # the trailer: 0x06, be32 length, JSON to the end
    i = b.rfind(b"\x06", 0, i)
    if struct.unpack(">I", b[i + 1:i + 5])[0] == len(b) - i - 5:
        break
j = b"[" + b"[]," * ((4 << 20) // 3) + b"[]]"
open(sys.argv[2], "wb").write(b[:i] + b"\x06" + struct.pack(">I", len(j)) + j)
PY
check load-big-trailer 2 "$vm" load "$work/big.bin";      one_line "exceeds the limit of 1048576"

# --jobs --json: exactly one JSON object, totals at the top, one run per seed.
check jobs-json 0 "$vm" run --checkpoints 30 --jobs 3 --seed 5 --json --results "$work/r"
printf '%s' "$out" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
assert d["status"] == "clean" and d["jobs"] == 3, d
assert [r["seed"] for r in d["runs"]] == [5, 6, 7], d["runs"]
assert d["checkpoints"] == sum(r["checkpoints"] for r in d["runs"]) == 90, d
assert d["full_checkpoints"] == sum(r["full_checkpoints"] for r in d["runs"]) >= 3, d
assert d["guest_cycles"] == sum(r["guest_cycles"] for r in d["runs"]) and "phases" in d
assert abs(d["seconds"] - sum(r["seconds"] for r in d["runs"])) < 1e-6
assert d["wall_seconds"] == max(r["seconds"] for r in d["runs"])
' && pass || fail "jobs-json: $out"
# --shard K/N: the N machines of a CI matrix split the seeds, never sharing
# one: shard K runs seed+K-1, seed+K-1+N, ...; together they run each once.
seeds=""
for k in 1 2 3; do
  check "shard $k/3" 0 "$vm" run --checkpoints 5 --jobs 2 --seed 10 --shard $k/3 --json --results "$work/shard$k"
  seeds="$seeds $(printf '%s' "$out" | python3 -c 'import json,sys; print(" ".join(str(r["seed"]) for r in json.load(sys.stdin)["runs"]))')"
done
[ "$(echo $seeds | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "10 11 12 13 14 15 " ] && pass || fail "shard seeds: $seeds"
check shard-one 0 "$vm" run --checkpoints 3 --seed 10 --shard 3/4 --json --results "$work/r"
has shard-one "$out" '"seed":12,'
for b in 0/3 4/3 1/0 x 1/ /2 -1/2 1/-2 2/3x 1/70000; do
  check "shard $b" 2 "$vm" run --shard "$b" --checkpoints 1 --results "$work/r"; one_line "--shard wants K/N"
done
# On a terminal, one combined progress line and a total (script gives a pty).
check jobs-tty 0 script -qec "'$vm' run --checkpoints 300 --jobs 2 --results '$work/r'" /dev/null
has jobs-tty "$out" "jobs running [0-9]/2"
has jobs-total "$out" "total: 2 jobs, 600 checkpoints"

# Ctrl-C: the run ends after its checkpoint, merges field coverage, prints the summary, exits 0.
sigint() { # sigint NAME ARGS... : start, wait until it is running, SIGINT, bounded wait
  name=$1; shift
  rm -rf "$work/.out" "$work/rsig"
  "$vm" run --duration 1h --results "$work/rsig" "$@" >"$work/.out" 2>"$work/.err" &
  pid=$!
  # The results folder appears once Ctrl-C is handled; then let it run a moment.
  i=0
  while [ ! -d "$work/rsig" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  sleep 1
  kill -INT "$pid"
  # The report is the last thing a run writes: wait for it, at most 10 s
  # (kill -0 cannot tell an exited, unreaped process from a running one).
  i=0
  while [ ! -s "$work/.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ -s "$work/.out" ] || { kill -KILL "$pid"; fail "$name: no report 10 s after SIGINT"; }
  wait "$pid"
  got=$?
  out=$(cat "$work/.out") err=$(cat "$work/.err")
  [ "$got" -eq 0 ] && pass || fail "$name: status $got after SIGINT: $out $err"
}
sigint sigint --field-coverage "$work/fc.json"
has sigint "$out" "checkpoints.*0 divergences"
has sigint-note "$out" "interrupted"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/fc.json" && pass || fail "sigint: no field coverage"
sigint sigint-jobs --jobs 2 --json
printf '%s' "$out" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
assert d["interrupted"] and d["status"] == "clean" and len(d["runs"]) == 2 and d["checkpoints"] > 0, d
' && pass || fail "sigint-jobs: $out"
finish
