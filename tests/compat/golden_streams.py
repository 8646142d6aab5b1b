#!/usr/bin/env python3
"""golden_streams.py VMSTRESS WORKDIR GOLDEN_DIR - frozen releases' streams against today's build.

GOLDEN_DIR/<machine-type>/ is what ci/release-freeze wrote (MANIFEST.json,
streams, firmware, continuations, the type's descriptions). For every
frozen machine type:

forward   every golden stream loads into today's build under its machine
          type and the continuation (guest console, cycle, state digest,
          guest state after N more cycles) is byte for byte the frozen one.
          A failure names the section and field: the stream's leaves walked
          against today's description of the type when the load fails,
          else the first leaf that differs when today's build saves the
          loaded machine again.
backward  a stream today's build saves under the type decodes against the
          frozen description of that type field by field: every leaf of
          every described section is a field the frozen release reads at
          the section's version, in order, of the frozen size, and nothing
          is left over. That is what the older release's loader would do.
refusal   a stream of a newer machine type offered to an older one is
          refused with one line naming both types.

planted   with `--plant BASE=VARIANT --expect REGEX` (VMSTRESS is then
          vmstress-planted): the variant replaces BASE in today's build, the
          forward check must fail on every golden stream with a message
          matching REGEX (the section and field), and `vmstress compat`
          of each frozen dump against today's must name the same field
          (grade no). Backward and refusal are not run.
"""
import gzip
import json
import os
import re
import subprocess
import sys

FNV_OFFSET, FNV_PRIME = 0xcbf29ce484222325, 0x100000001b3
failures = []
PLANT = []          # ["--plant", "BASE=VARIANT"] for today's machine, or nothing


def fail(msg):
    failures.append(msg)
    if not PLANT:
        print("FAIL " + msg)    # a planted run prints what it caught at the end


def fnv1a64(data):
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & 0xffffffffffffffff
    return "0x%016x" % h


def run(vm, *args, timeout=120):
    p = subprocess.run([vm, *args], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


# ------------------------------------------------------------ the walker

def decode(vm, stream):
    st, out, err = run(vm, "decode", stream, "--json")
    if st:
        raise ValueError("decode: " + err.strip())
    return json.loads(out)


def sections_of(doc):
    """{"idstr.instance": (version, [(relative path, size or None), ...])} in stream order."""
    secs = {}
    for s in doc["sections"]:
        secs["%s.%d" % (s["idstr"], s["instance_id"])] = (s["version_id"], [])
    for leaf in doc["leaves"]:
        head, _, rest = leaf["path"].partition("/")
        if head in secs:
            # A timer's dump size is its C struct's (QEMU's too); the wire
            # carries its 8-byte expiry, and the leaf's codec says so.
            secs[head][1].append((rest, None if leaf["type"] == "timer" else leaf["size"]))
    return secs


def walk(desc, version, leaves, i, where, problems):
    """Consume leaves[i:] as `desc` at `version` reads them; returns the next index."""
    for f in desc.get("Fields", []):
        name = f["field"]
        if f["version_id"] > version:
            continue        # not in a stream of this version
        pat = re.compile(re.escape(name) + r"(\[\d+\])?(/|$)")
        start = i
        while i < len(leaves) and pat.match(leaves[i][0]):
            path, size = leaves[i]
            m = pat.match(path)
            if "Description" in f:
                # A struct (or a pointer to one): its fields under "name/" or "name[k]/".
                prefix = m.group(0)
                sub = [(p[len(prefix):], s) for p, s in leaves[i:] if p.startswith(prefix)]
                n = walk(f["Description"], f["Description"]["version_id"], sub, 0,
                         where + "/" + prefix.rstrip("/"), problems)
                i += max(n, 1)
            else:
                if m.group(2) == "/":
                    problems.append("%s: field %s is a struct in the stream, a leaf in the description"
                                    % (where, name))
                elif size is not None and size != f["size"]:
                    problems.append("%s: field %s: %d bytes in the stream, %d in the description"
                                    % (where, path, size, f["size"]))
                i += 1
        if i == start and not f["field_exists"]:
            got = leaves[i][0] if i < len(leaves) else "the end of the section"
            problems.append("%s: field %s (version %d) expected, the stream has %s"
                            % (where, name, f["version_id"], got))
            return len(leaves)
    subs = {s["name"]: s for s in desc.get("Subsections", [])}
    while i < len(leaves):
        path = leaves[i][0]
        sub = next((n for n in subs if path.startswith(n + "/")), None)
        if sub is None:
            break
        part = [(p[len(sub) + 1:], s) for p, s in leaves[i:] if p.startswith(sub + "/")]
        walk(subs[sub], subs[sub]["version_id"], part, 0, where + "/" + sub, problems)
        i += len(part)
    return i


def walk_stream(doc, dump):
    """Problems found walking every described section of a decoded stream against a dump."""
    problems = []
    by_name = {}
    for key, entry in dump.items():
        if key != "vmschkmachine":
            by_name.setdefault(entry["Description"]["name"], entry)
    for sec, (version, leaves) in sections_of(doc).items():
        entry = by_name.get(sec.rpartition(".")[0])
        if entry is None:
            continue        # the machine's own sections (clock, SRAM) are in no dump
        if not entry["minimum_version_id"] <= version <= entry["version_id"]:
            problems.append("%s: version %d outside the description's [%d, %d]"
                            % (sec, version, entry["minimum_version_id"], entry["version_id"]))
            continue
        n = walk(entry["Description"], version, leaves, 0, sec, problems)
        if n < len(leaves):
            problems.append("%s: field %s is in the stream but not in the description"
                            % (sec, leaves[n][0]))
    return problems


# ------------------------------------------------------------ the checks

def machine_type_of(stream):
    b = open(stream, "rb").read(64)
    n = int.from_bytes(b[9:13], "big")
    return b[13:13 + n].decode()


def unpack(src, dst):
    with gzip.open(src, "rb") as f, open(dst, "wb") as o:
        o.write(f.read())
    return dst


def diagnose(vm, work, stream, dump, resaved, loaded):
    """The section and field behind a failed forward check."""
    golden = decode(vm, stream)
    if loaded:
        mine = decode(vm, resaved)
        old = {l["path"]: l["hex"] for l in golden["leaves"]}
        for leaf in mine["leaves"]:
            if old.get(leaf["path"]) != leaf["hex"]:
                return "saved again after the load, %s differs (golden %s, today %s)" % (
                    leaf["path"], old.get(leaf["path"], "absent"), leaf["hex"][:32])
        return "the loaded state saves back identically: the behaviour after the load differs"
    return "; ".join(walk_stream(golden, dump)) or "the stream walks against today's description"


def forward(vm, work, tdir, man, dump):
    for fw, meta in man["firmware"].items():
        elf = unpack(os.path.join(tdir, fw), os.path.join(work, fw[:-3]))
        if fnv1a64(open(elf, "rb").read()) != meta["fnv1a64"]:
            fail("%s/%s: FNV-1a %s, manifest %s" % (tdir, fw, fnv1a64(open(elf, "rb").read()), meta["fnv1a64"]))
    for s in man["streams"]:
        stream = unpack(os.path.join(tdir, s["stream"]), os.path.join(work, s["stream"][:-3]))
        if machine_type_of(stream) != man["machine_type"]:
            fail("%s names machine type %s" % (s["stream"], machine_type_of(stream)))
        resaved = stream + ".today"
        st, out, err = run(vm, "load", stream, "--firmware", os.path.join(work, s["firmware"][:-3]),
                           "--cycles", str(man["continue_cycles"]), "-o", resaved, *PLANT)
        want = open(os.path.join(tdir, s["continuation"]), "rb").read()
        if st == 0 and out == want:
            continue
        why = diagnose(vm, work, stream, dump, resaved, st == 0)
        fail("forward %s/%s: %s; %s" % (man["machine_type"], s["stream"],
                                        err.strip() if st else "the continuation differs", why))


def backward(vm, work, tdir, man, frozen):
    s = man["streams"][-1]
    elf = os.path.join(work, s["firmware"][:-3])
    stream = os.path.join(work, "today-%s.bin" % man["machine_type"])
    st, out, err = run(vm, "save", elf, "--cycles", str(s["cycles"]), "-o", stream,
                       "--board", man["machine_type"])
    if st:
        fail("save --board %s: %s" % (man["machine_type"], err.strip()))
        return
    problems = walk_stream(decode(vm, stream), frozen)
    for p in problems:
        fail("backward %s: %s" % (man["machine_type"], p))
    if not problems:
        print("backward %s: today's stream walks against the frozen descriptions" % man["machine_type"])


def refusal(vm, work, manifests):
    types = sorted(manifests, key=lambda t: [int(x) for x in manifests[t]["release"].split(".")])
    for k, older in enumerate(types):
        for newer in types[k + 1:]:
            s = manifests[newer]["streams"][0]
            stream = os.path.join(work, newer, s["stream"][:-3])
            st, out, err = run(vm, "load", stream, "--board", older)
            lines = err.strip().split("\n")
            if st != 2 or len(lines) != 1 or "'%s' does not match '%s'" % (newer, older) not in err:
                fail("a %s stream offered to %s: exit %d, %r" % (newer, older, st, err))


def planted(vm, work, golden, expect):
    """The forward check and the static checker must both name the plant."""
    before = len(failures)
    for t in sorted(os.listdir(golden)):
        tdir = os.path.join(golden, t)
        if not os.path.exists(os.path.join(tdir, "MANIFEST.json")):
            continue
        man = json.load(open(os.path.join(tdir, "MANIFEST.json")))
        w = os.path.join(work, t)
        os.makedirs(w, exist_ok=True)
        today = os.path.join(w, "today.json")
        st, out, err = run(vm, "dump-vmstate", today, "--board", t, *PLANT)
        if st:
            fail("dump-vmstate --board %s %s: %s" % (t, " ".join(PLANT), err.strip()))
            continue
        forward(vm, w, tdir, man, json.load(open(today)))
        frozen = os.path.join(tdir, "vmstate-%s.json" % man["release"])
        st, out, err = run(vm, "compat", frozen, today, "--direction", "forward", "--machine", t)
        print("compat %s: exit %d\n%s" % (t, st, out.decode().strip()))
        if st != 4 or not re.search(expect, out.decode()):
            fail("compat %s against %s: exit %d, no fact matching %r" % (frozen, " ".join(PLANT), st, expect))
    caught = failures[before:]
    del failures[before:]
    if not caught:
        failures.append("the plant %s passed every check" % " ".join(PLANT))
        print("FAIL " + failures[-1])
    for msg in caught:
        print("caught: " + msg)
        if msg.startswith("forward ") and not re.search(expect, msg):
            failures.append("the forward check does not name the plant (%r): %s" % (expect, msg))
            print("FAIL " + failures[-1])


def main():
    if sys.argv[1] == "--walk":
        problems = walk_stream(decode(sys.argv[2], sys.argv[3]), json.load(open(sys.argv[4])))
        print("\n".join(problems) or "no problem")
        sys.exit(1 if problems else 0)
    vm, work, golden = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    if len(sys.argv) == 8 and sys.argv[4] == "--plant" and sys.argv[6] == "--expect":
        PLANT.extend(["--plant", sys.argv[5]])
        planted(vm, work, golden, sys.argv[7])
        print("planted %s: %s" % (sys.argv[5], "%d failures" % len(failures) if failures else "caught"))
        sys.exit(1 if failures else 0)
    manifests = {}
    for t in sorted(os.listdir(golden)):
        tdir = os.path.join(golden, t)
        if not os.path.exists(os.path.join(tdir, "MANIFEST.json")):
            continue
        man = manifests[t] = json.load(open(os.path.join(tdir, "MANIFEST.json")))
        w = os.path.join(work, t)
        os.makedirs(w, exist_ok=True)
        today = os.path.join(w, "today.json")
        st, out, err = run(vm, "dump-vmstate", today, "--board", t)
        if st:
            fail("dump-vmstate --board %s: %s" % (t, err.strip()))
            continue
        forward(vm, w, tdir, man, json.load(open(today)))
        backward(vm, w, tdir, man, json.load(open(os.path.join(tdir, "vmstate-%s.json" % man["release"]))))
        print("%s: %d golden streams checked" % (t, len(man["streams"])))
    if len(manifests) < 2:
        fail("fewer than two frozen releases under %s" % golden)
    refusal(vm, work, {t: m for t, m in manifests.items()})
    print("golden streams: %s" % ("%d failures" % len(failures) if failures else "ok"))
    sys.exit(1 if failures else 0)


main()
