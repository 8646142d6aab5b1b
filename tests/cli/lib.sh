# lib.sh - shared helpers of the CLI tests (sourced). Every command runs
# under `timeout`, so a hang is a failure, never a stuck ctest.
fails=0 passes=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
pass() { passes=$((passes + 1)); }
# check NAME EXPECTED_STATUS COMMAND... : stdout in $out, stderr in $err
check() {
  name=$1 want=$2
  shift 2
  timeout -s KILL 60 "$@" >"$work/.out" 2>"$work/.err"
  got=$?
  out=$(cat "$work/.out") err=$(cat "$work/.err")
  if [ "$got" -ne "$want" ]; then fail "$name: status $got, want $want: $out $err"; else pass; fi
}
# one_line TEXT: the last check wrote exactly one line on stderr, naming TEXT, and nothing on stdout
one_line() {
  if [ -n "$out" ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || ! printf '%s' "$err" | grep -q -- "$1"; then
    fail "$name: want one stderr line naming '$1', got stdout '$out' stderr '$err'"
  else
    pass
  fi
}
# has NAME TEXT REGEX: TEXT matches the extended REGEX
has() { if printf '%s' "$2" | grep -Eq -- "$3"; then pass; else fail "$1: no /$3/ in: $2"; fi; }
finish() {
  echo "$passes passed, $fails failed"
  [ "$fails" -eq 0 ]
}
