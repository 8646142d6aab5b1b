#!/bin/sh
# test_corpus_digests.sh SOURCE_DIR BUILD_DIR WORK_DIR - ci/corpus touches
# only the corpora whose inputs changed, on a copy of corpus/:
#  1. as checked in, every corpus is "unchanged" and nothing is written
#     (so the checked-in digests match today's descriptions: after changing
#     a description, run ci/corpus and commit what it regenerates);
#  2. a changed digest regenerates that one corpus and nothing else;
#  3. a missing corpus (a new device) is made, nothing else touched;
#  4. a corpus of a type that is not registered is removed.
# No merge (no fuzz build) and no build: CORPUS_SKIP_BUILD=1.
set -u
src=$1 build=$2 work=$3
fails=0
rm -rf "$work" && mkdir -p "$work" && cp -r "$src/corpus" "$work/corpus" && cp -r "$work/corpus" "$work/orig"
corpus() {
  VMSTRESS_CORPUS="$work/corpus" VMSTRESS_BUILD="$build" VMSTRESS_FUZZ_BUILD="$work/no-fuzz-build" \
    CORPUS_SKIP_BUILD=1 "$src/ci/corpus" > "$work/out" 2>&1
  st=$?
  [ $st -eq 0 ] || { echo "FAIL ci/corpus exited $st:"; cat "$work/out"; fails=$((fails + 1)); }
}
# Every file below DIR with its hash, one line each.
sums() { (cd "$1" && find . -type f -exec cksum {} + | awk '{ print $3, $1, $2 }' | sort); }
# check WHAT GOT NAME...: GOT (a sorted, space-separated list) is NAME...
check() {
  what=$1 got=$2 want=""
  shift 2
  for n in "$@"; do want="$want$n "; done
  [ "$got" = "$want" ] || { echo "FAIL $what: '$got', want '$want'"; cat "$work/out"; fails=$((fails + 1)); }
}
# The targets (folder or .digest) in which the copy differs from the original.
changed() {
  sums "$work/orig" > "$work/a"; sums "$work/corpus" > "$work/b"
  comm -3 "$work/a" "$work/b" | sed -e 's|^[[:space:]]*\./||' -e 's|[/ ].*||' -e 's|\.digest$||' | sort -u | tr '\n' ' '
}
# The targets ci/corpus said it regenerated.
regenerated() { sed -n 's|^.*/corpus/\([^:]*\): regenerated.*|\1|p' "$work/out" | sort -u | tr '\n' ' '; }

corpus
[ "$(grep -vc ': unchanged$' "$work/out")" -eq 0 ] || { echo "FAIL checked-in digests are stale (run ci/corpus):"; cat "$work/out"; fails=$((fails + 1)); }
check "as checked in: changed" "$(changed)"

dev=$("$build/fuzz/fuzzgen" digests | sed -n 's/^\(fuzz_load_[^ ]*\) .*/\1/p' | head -1)
# adopt TARGET: take the copy's TARGET into the original, so that changed()
# then names what else was touched.
adopt() {
  rm -rf "$work/orig/$1" "$work/orig/$1.digest"
  cp -r "$work/corpus/$1" "$work/corpus/$1.digest" "$work/orig/"
}

echo "0000000000000000 streams=2 programs=24" > "$work/corpus/$dev.digest"
: > "$work/corpus/$dev/stale-seed"
corpus
check "changed description: regenerated" "$(regenerated)" "$dev"
[ ! -e "$work/corpus/$dev/stale-seed" ] || { echo "FAIL changed description: $dev kept its old seeds"; fails=$((fails + 1)); }
cmp -s "$work/corpus/$dev.digest" "$work/orig/$dev.digest" || { echo "FAIL changed description: digest not rewritten"; fails=$((fails + 1)); }
adopt "$dev"
check "changed description: also changed" "$(changed)"

rm -rf "$work/corpus/$dev" "$work/corpus/$dev.digest"
corpus
[ -n "$(ls "$work/corpus/$dev")" ] || { echo "FAIL new device: $dev has no seeds"; fails=$((fails + 1)); }
check "new device: regenerated" "$(regenerated)" "$dev"
adopt "$dev"
check "new device: also changed" "$(changed)"

mkdir -p "$work/corpus/fuzz_load_nosuch" && : > "$work/corpus/fuzz_load_nosuch/x"
corpus
[ ! -e "$work/corpus/fuzz_load_nosuch" ] && grep -q "fuzz_load_nosuch: removed" "$work/out" ||
  { echo "FAIL a corpus of no registered type was not removed"; cat "$work/out"; fails=$((fails + 1)); }

echo "$fails failures"
[ $fails -eq 0 ]
