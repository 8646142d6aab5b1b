# fuzz/max_len.sh - sourced by the fuzz scripts (ci/fuzz, ci/nightly,
# fuzz/time_to_find.sh, fuzz/oss-fuzz/build.sh) so every run of a target
# uses the same libFuzzer -max_len and -len_control, and the same seeds.
#
# fuzz_load takes whole streams: on the fuzz board (2 KiB of SRAM) one is
# about 3.4 KB, 12.6 KB with its JSON trailer, so 16 KiB leaves room to
# grow without letting inputs swell into the slow path. fuzz_decode takes
# any stream with its trailer; its seeds go up to a 27 KB QEMU microbit
# stream, so 32 KiB. Section bodies and
# operation programs stay well under 4 KiB.
fuzz_max_len() {
  case $1 in
    fuzz_load|fuzz_load_planted) echo 16384 ;;
    fuzz_decode) echo 32768 ;;
    *) echo 4096 ;;
  esac
}

# libFuzzer starts with a length limit of a few bytes above its seeds and
# raises it only after -len_control (default 100) * log(limit) runs without
# new coverage. At fuzz_roundtrip's few hundred executions per second that
# kept every operation program at 227 bytes for ten minutes, though longer
# programs reach deeper device states. The slow targets (a whole guest run
# per input) get 0: the limit is -max_len from the start. The fast load
# targets keep libFuzzer's default, which favours short inputs while they
# still find coverage quickly.
fuzz_len_control() {
  case $1 in
    fuzz_roundtrip|fuzz_roundtrip_planted) echo 0 ;;
    *) echo 100 ;;
  esac
}

# The checked-in corpus a target starts from: the planted variants take
# their shipped target's seeds (their own regressions folder holds the
# planted bug's reproducers, which crash them by design).
fuzz_seed_target() {
  case $1 in
    fuzz_load_planted) echo fuzz_load ;;
    fuzz_roundtrip_planted) echo fuzz_roundtrip ;;
    *) echo "$1" ;;
  esac
}
