#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for vmstress.
#
# Honours $CC $CFLAGS $LIB_FUZZING_ENGINE $OUT $SRC $WORK (and $CXX as the
# linker when set: libFuzzer and the AFL++ driver are C++). Produces in $OUT,
# for every target: the binary, <target>_seed_corpus.zip (files named by
# sha1), <target>.dict and <target>.options. The per-device targets
# fuzz_load_<type> are copies of one binary, one per registered device.
#
# The guest firmware is built with the host clang for thumbv6m-none-eabi and
# ld.lld (VMSTRESS_GUEST_CC / VMSTRESS_GUEST_LD to choose others) and
# embedded into every binary, so $OUT is self-contained apart from jansson
# and capstone, which are copied to $OUT/lib (rpath $ORIGIN/lib).
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/../../CMakeLists.txt" ]; then
  ROOT=$(cd "$here/../.." && pwd)
else
  ROOT=${SRC:-/src}/vmstress
fi
WORK=${WORK:-/tmp}
OUT=${OUT:?set OUT}
BUILD=$WORK/vmstress-fuzz-build
mkdir -p "$OUT" "$OUT/lib"

link_rule=()
if [ -n "${CXX:-}" ] && command -v "${CXX%% *}" >/dev/null; then
  link_rule=(-DCMAKE_C_LINK_EXECUTABLE="$CXX <FLAGS> <CMAKE_C_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET> <LINK_LIBRARIES>")
fi
guest=()
[ -n "${VMSTRESS_GUEST_CC:-}" ] && guest+=(-DVMSTRESS_GUEST_CC="$VMSTRESS_GUEST_CC")
[ -n "${VMSTRESS_GUEST_LD:-}" ] && guest+=(-DVMSTRESS_GUEST_LD="$VMSTRESS_GUEST_LD")

cmake -S "$ROOT" -B "$BUILD" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS_RELEASE="" -DVMSTRESS_WERROR=OFF -DVMSTRESS_FUZZ=ON \
  -DVMSTRESS_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DVMSTRESS_FUZZ_EXTRA_LIBS='-Wl,-rpath,$ORIGIN/lib' \
  "${link_rule[@]}" "${guest[@]}" >/dev/null
cmake --build "$BUILD" --target fuzz_load fuzz_load_dev fuzz_roundtrip fuzzgen fuzz_dicts -j"$(nproc)" >/dev/null

F=$BUILD/fuzz
devices=$("$F/fuzzgen" devices)
targets="fuzz_load fuzz_roundtrip"
cp "$F/fuzz_load" "$F/fuzz_roundtrip" "$OUT/"
for d in $devices; do
  cp "$F/fuzz_load_dev" "$OUT/fuzz_load_$d"
  targets="$targets fuzz_load_$d"
done

# Shared libraries the runner image does not have.
for lib in $(ldd "$F/fuzz_load" | awk '/jansson|capstone/ { print $3 }'); do
  cp -L "$lib" "$OUT/lib/"
done

. "$ROOT/fuzz/max_len.sh"
for t in $targets; do
  cp "$F/$t.dict" "$OUT/$t.dict"
  printf '[libfuzzer]\nmax_len = %s\nlen_control = %s\ndict = %s.dict\n' \
    "$(fuzz_max_len "$t")" "$(fuzz_len_control "$t")" "$t" > "$OUT/$t.options"
  seeds=$WORK/seeds-$t
  rm -rf "$seeds" && mkdir -p "$seeds"
  for f in "$ROOT/corpus/$t"/* "$ROOT/corpus/regressions/$t"/*; do
    [ -f "$f" ] || continue
    cp "$f" "$seeds/$(sha1sum "$f" | cut -c1-40)"
  done
  rm -f "$OUT/${t}_seed_corpus.zip"
  if [ -n "$(ls -A "$seeds")" ]; then
    (cd "$seeds" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  fi
done
echo "vmstress: built $targets into $OUT"
