#!/usr/bin/env python3
"""fuzz_fixed_inputs.py SEED_DIR OUT_DIR N [SEED] - N fixed inputs for a
fuzz target, the same for every build: each is one of SEED_DIR's files
(a checked-in corpus) with one to four byte-level mutations (flip a bit,
set a byte, insert a byte, delete one), drawn from random.Random(SEED)
(default 1). The first K of a set of N are the set of K.

What it is for: comparing two builds of a target on identical inputs,
which fuzzing runs (each following its own trajectory) never are, e.g.
instructions per input under callgrind with the plain replay driver:

  valgrind --tool=callgrind --toggle-collect=LLVMFuzzerTestOneInput \\
      build/default/fuzz/fuzz_load_pl011 OUT_DIR
"""
import os
import random
import sys


def main():
    if len(sys.argv) < 4 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stdout if len(sys.argv) > 1 else sys.stderr)
        return 0 if len(sys.argv) > 1 else 2
    src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    seeds = []
    for name in sorted(os.listdir(src)):
        with open(os.path.join(src, name), "rb") as f:
            data = f.read()
        if data:
            seeds.append(data)
    if not seeds:
        print(f"fuzz_fixed_inputs: {src}: no non-empty seed", file=sys.stderr)
        return 2
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        b = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op, p = rng.randrange(4), rng.randrange(len(b)) if b else 0
            if op == 0 and b:
                b[p] ^= 1 << rng.randrange(8)
            elif op == 1 and b:
                b[p] = rng.randrange(256)
            elif op == 2:
                b[p:p] = bytes([rng.randrange(256)])
            elif op == 3 and len(b) > 1:
                del b[p]
        with open(os.path.join(out, "%06d" % i), "wb") as f:
            f.write(bytes(b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
