# fuzz/max_len.sh - sourced by the fuzz scripts (ci/fuzz, ci/nightly,
# fuzz/time_to_find.sh, fuzz/oss-fuzz/build.sh) so every run of a target
# uses the same libFuzzer -max_len.
#
# fuzz_load takes whole streams: on the fuzz board (2 KiB of SRAM) one is
# about 3.4 KB, 12.6 KB with its JSON trailer, so 16 KiB leaves room to
# grow without letting inputs swell into the slow path. Section bodies and
# operation programs stay well under 4 KiB.
fuzz_max_len() {
  case $1 in
    fuzz_load|fuzz_load_planted) echo 16384 ;;
    *) echo 4096 ;;
  esac
}
