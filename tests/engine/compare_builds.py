#!/usr/bin/env python3
"""compare_builds.py BEFORE AFTER [SOURCE_DIR [GUEST_DIR]] - two builds of vmstress, the same bytes and lines.

Run by hand when the engine's walk changes (it needs a second build, so
ctest does not run it): BEFORE and AFTER are two `vmstress` binaries, e.g.
the tree before a change and after it (copy them aside first if a build
may run meanwhile). SOURCE_DIR is the tree with corpus/ (default: this
one), GUEST_DIR the built firmware both builds run (default:
AFTER/../../guest). For every stream under SOURCE_DIR/corpus (the fuzz
corpora, the regressions, the frozen golden streams, gunzipped), and for
cut and bit-flipped copies of each (deterministic: 12 cuts and 12 flips
spread over the stream), both builds must print the same thing, byte for
byte, with the same exit status:

  vmstress load STREAM -o OUT   ("ok" or the one-line error; then OUT,
                                 the loaded machine saved again)
  vmstress decode STREAM        (every leaf, or the one-line error)

and `vmstress save` of every workload at three cycle counts, on every
board that has firmware built for it (stop-and-copy and --precopy), must
write the same stream. Prints one line per difference and a summary;
exit status 1 on any difference.
"""
import gzip
import os
import subprocess
import sys
import tempfile

CUTS = 12
FLIPS = 12


def run(vm, args, tmp):
    out = os.path.join(tmp, "out.bin")
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([vm] + [a if a != "OUT" else out for a in args], capture_output=True,
                       timeout=120)
    data = open(out, "rb").read() if os.path.exists(out) else None
    return p.returncode, p.stdout, p.stderr, data


def streams(src):
    """(name, bytes) of every stream file under corpus/, gunzipped."""
    root = os.path.join(src, "corpus")
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            path = os.path.join(d, f)
            rel = os.path.relpath(path, root)
            if f.endswith(".bin.gz"):
                yield rel, gzip.open(path).read()
            elif not f.endswith((".digest", ".out", ".json", ".gz", ".elf", ".txt", ".md")):
                yield rel, open(path, "rb").read()


def variants(data):
    """The stream, cut short and with one byte flipped, at spread offsets."""
    yield "", data
    n = len(data)
    for i in range(1, CUTS + 1):
        at = n * i // (CUTS + 1)
        yield "cut@%d" % at, data[:at]
    for i in range(FLIPS):
        at = (n * (2 * i + 1)) // (2 * FLIPS)
        if at < n:
            b = bytearray(data)
            b[at] ^= 1 << (i % 8)
            yield "flip@%d" % at, bytes(b)


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    before, after = sys.argv[1], sys.argv[2]
    src = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..")
    diffs = 0
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        sfile = os.path.join(tmp, "stream.bin")

        def same(what, args):
            nonlocal diffs, checks
            checks += 1
            a, b = run(before, args, tmp), run(after, args, tmp)
            for k, part in enumerate(("exit status", "stdout", "stderr", "saved stream")):
                if a[k] != b[k]:
                    diffs += 1
                    print("DIFF %s: %s differs" % (what, part), flush=True)
                    return

        for rel, data in streams(src):
            for tag, v in variants(data):
                with open(sfile, "wb") as f:
                    f.write(v)
                what = rel + (" " + tag if tag else "")
                same("load " + what, ["load", sfile, "-o", "OUT"])
                same("decode " + what, ["decode", sfile])
        # The same firmware files for both builds.
        guest = sys.argv[4] if len(sys.argv) > 4 else os.path.join(os.path.dirname(after), "..", "..", "guest")
        boards = (("vmstress-m0", guest), ("vmstress-m0-1.0", guest), ("vmstress-m0-1.1", guest),
                  ("vmstress-m0-small", os.path.join(guest, "small")))
        for board, d in boards:
            for elf in sorted(f for f in os.listdir(d) if f.endswith(".elf")):
                for cycles in ("1000", "123457", "2000000"):
                    for mode in ([], ["--precopy"]):
                        same("save %s %s %s %s" % (board, elf, cycles, " ".join(mode)),
                             ["save", os.path.join(d, elf), "--cycles", cycles, "-o", "OUT",
                              "--board", board] + mode)
    print("%d checks, %d differences" % (checks, diffs))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
