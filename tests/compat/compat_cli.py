#!/usr/bin/env python3
"""compat_cli.py VMSTRESS WORKDIR {own|qemu|golden} [GOLDEN_DIR] - `vmstress compat` end to end.

own:  vmstress's own dump, mutated here one kind of change at a time, and
      malformed input (one-line errors, exit 2).
qemu: dumps QEMU writes now (qemu-system-arm -dump-vmstate, several machine
      types including two versions of virt, and qemu-system-aarch64's virt
      when installed; each run bounded), compared with each other, with vmstress's
      dump, and mutated. Exit 77 (ctest SKIP) when QEMU is not installed.
golden: today's dump against every frozen release under GOLDEN_DIR
      (corpus/golden/<machine-type>/vmstate-<version>.json, written by
      ci/release-freeze): streams of every frozen release must load (forward
      verdict yes or probably-yes), and a field planted without a version
      bump must be named.

Each mutation states the fact it must produce: direction, grade, section,
path and kind, and the exit status of the command.
"""
import copy
import json
import os
import shutil
import subprocess
import sys

VM, WORK, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
QEMU = os.environ.get("QEMU_SYSTEM_ARM", "qemu-system-arm")
failures = []


def run(*args, timeout=60):
    p = subprocess.run([VM, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def write(name, dump):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        json.dump(dump, f)
    return path


def compat_json(old, new, *extra):
    """Run compat --json; check stdout is exactly one JSON object; return (status, it)."""
    st, out, err = run("compat", old, new, "--json", *extra)
    try:
        doc = json.loads(out)
    except ValueError as e:
        fail("%s %s: --json output is not one JSON object (%s): %r" % (old, new, e, out[:200]))
        return st, {}
    if not isinstance(doc, dict) or doc.get("exit") != st:
        fail("%s %s: exit %d but JSON says %r" % (old, new, st, doc.get("exit")))
    return st, doc


def facts(doc, direction):
    return [(f["grade"], f["section"], f["path"], f["kind"]) for f in doc.get(direction, {}).get("facts", [])]


def expect(name, old, new, status, want=(), verdicts=None):
    """compat OLD NEW must exit `status` and report every (direction, grade, section, path, kind)."""
    st, doc = compat_json(old, new)
    if st != status:
        fail("%s: exit %d, want %d: %s" % (name, st, status, json.dumps(doc)[:600]))
    for direction, *fact in want:
        if tuple(fact) not in facts(doc, direction):
            fail("%s: no %s fact %r; got %r" % (name, direction, fact, facts(doc, direction)[:10]))
    for direction, verdict in (verdicts or {}).items():
        if doc.get(direction, {}).get("verdict") != verdict:
            fail("%s: %s verdict %r, want %r" % (name, direction, doc.get(direction, {}).get("verdict"), verdict))
    return doc


def one_line_error(name, args, needle):
    st, out, err = run(*args)
    lines = err.strip("\n").split("\n")
    if st != 2 or len(lines) != 1 or needle not in err or out:
        fail("%s: want exit 2 and one stderr line naming %r; got %d, %r, stdout %r" % (name, needle, st, err, out[:100]))


def fields_of(dump, section):
    return dump[section]["Description"]["Fields"]


def mutated(dump, fn):
    d = copy.deepcopy(dump)
    fn(d)
    return d


def field(name, version=0, size=4):
    return {"field": name, "version_id": version, "field_exists": False, "size": size}


def bump(dump, section, to):
    for o in (dump[section], dump[section]["Description"]):
        o["version_id"] = to


def own():
    base_path = os.path.join(WORK, "own.json")
    st, out, err = run("dump-vmstate", base_path)
    if st:
        fail("dump-vmstate: %d %s" % (st, err))
        return
    base = json.load(open(base_path))
    machine = base["vmschkmachine"]["Name"]
    # Identical, of a versioned machine type (the default resolves to the
    # newest, vmstress-m0-1.1 or later): no fact at all, exit 0.
    doc = expect("own vs own", base_path, base_path, 0, [], {"forward": "yes", "backward": "yes"})
    if facts(doc, "forward") or facts(doc, "backward"):
        fail("own vs own: facts %r" % (facts(doc, "forward") + facts(doc, "backward")))
    # Identical, of an unversioned machine type: only the machine fact.
    small_path = os.path.join(WORK, "small.json")
    st, out, err = run("dump-vmstate", small_path, "--board", "vmstress-m0-small")
    if st:
        fail("dump-vmstate --board vmstress-m0-small: %d %s" % (st, err))
    expect("unversioned vs itself", small_path, small_path, 0,
           [("forward", "probably-yes", "", "", "machine")],
           {"forward": "probably-yes", "backward": "probably-yes"})
    st, out, err = run("compat", base_path, base_path)
    if st or "forward: " not in out or "backward: " not in out:
        fail("text output: %d %r" % (st, out))

    v = base["pl011"]["version_id"]
    appended = write("appended.json", mutated(base, lambda d: fields_of(d, "pl011").append(field("planted"))))
    expect("field appended without a version bump", base_path, appended, 4,
           [("forward", "no", "pl011", "planted", "field"), ("backward", "no", "pl011", "planted", "field")])

    def add_versioned(d):
        bump(d, "pl011", v + 1)
        fields_of(d, "pl011").append(field("planted", v + 1))
    versioned = write("versioned.json", mutated(base, add_versioned))
    expect("field added under a version bump", base_path, versioned, 4,
           [("forward", "yes", "pl011", "planted", "field"), ("backward", "no", "pl011", "", "version")],
           {"forward": "yes", "backward": "no"})

    def add_sub(d):
        d["pl061"]["Description"].setdefault("Subsections", []).append(
            {"name": "pl061/planted", "version_id": 1, "minimum_version_id": 1, "Fields": [field("x")]})
    sub = write("subsection.json", mutated(base, add_sub))
    expect("subsection added", base_path, sub, 0,
           [("forward", "yes", "pl061", "pl061/planted", "subsection"),
            ("backward", "probably-yes", "pl061", "pl061/planted", "subsection")])

    def raise_min(d):
        bump(d, "pl031", base["pl031"]["version_id"] + 1)
        for o in (d["pl031"], d["pl031"]["Description"]):
            o["minimum_version_id"] = base["pl031"]["version_id"] + 1
    minv = write("minimum.json", mutated(base, raise_min))
    expect("minimum version raised", base_path, minv, 4, [("forward", "no", "pl031", "", "minimum_version")])

    def resize(d):
        fields_of(d, "pl011")[0]["size"] = 2
    first = fields_of(base, "pl011")[0]["field"]
    size = write("size.json", mutated(base, resize))
    expect("size change", base_path, size, 4, [("forward", "no", "pl011", first, "size")])

    # --direction and --machine.
    st, doc = compat_json(base_path, versioned, "--direction", "forward")
    if st != 0 or "backward" in doc or doc.get("forward", {}).get("verdict") != "yes":
        fail("--direction forward: %d %r" % (st, doc))
    st, doc = compat_json(base_path, base_path, "--machine", machine)
    if st != 0:
        fail("--machine %s: %d" % (machine, st))

    # Bad input: one line on stderr naming what and where, exit 2.
    one_line_error("missing file", ["compat", os.path.join(WORK, "nope.json"), base_path], "nope.json")
    bad = os.path.join(WORK, "bad.json")
    with open(bad, "w") as f:
        f.write('{"pl011": {"version_id": 1,\n  "minimum_version_id": }}\n')
    one_line_error("bad JSON", ["compat", base_path, bad], "bad.json: line 2 column")
    def unsized(d):
        del fields_of(d, "pl011")[1]["size"]
    shape = write("shape.json", mutated(base, unsized))
    one_line_error("bad shape", ["compat", shape, base_path], "shape.json: at $.pl011.Description.Fields[1]: 'size' is missing")
    one_line_error("a directory", ["compat", WORK, base_path], "not a regular file")
    empty = os.path.join(WORK, "empty.json")
    open(empty, "w").close()
    one_line_error("empty file", ["compat", base_path, empty], "empty.json: line 1")
    st, out, err = run("compat", "--help")
    if st or "Exit status" not in out:
        fail("--help: %d %r" % (st, out[:100]))
    one_line_error("one dump", ["compat", base_path], "two dumps")
    one_line_error("bad direction", ["compat", base_path, base_path, "--direction", "sideways"], "sideways")
    one_line_error("bad option", ["compat", base_path, base_path, "--bogus"], "--bogus")
    one_line_error("wrong machine", ["compat", base_path, base_path, "--machine", "virt-7.2"], "not 'virt-7.2'")


# Device types vmstress describes as QEMU 7.2 does (docs/qemu-compat.md).
SHARED = ["pl011", "pl031", "pl061", "pl061_luminary", "sp804", "cmsdk-apb-watchdog"]


def qemu():
    if not shutil.which(QEMU):
        print("SKIP: %s not found (ci/setup installs qemu-system-arm)" % QEMU)
        sys.exit(77)
    dumps = {}
    a64 = shutil.which(QEMU.replace("qemu-system-arm", "qemu-system-aarch64"))
    runs = [(QEMU, m) for m in ("lm3s811evb", "mps2-an385", "virt", "virt-7.1")]
    runs += [(a64, "virt")] if a64 else []
    for binary, m in runs:
        key = m if binary == QEMU else "aarch64-" + m
        path = os.path.join(WORK, "qemu-%s.json" % key)
        p = subprocess.run(["timeout", "-k", "5", "30", binary, "-M", m, "-display", "none",
                            "-dump-vmstate", path], capture_output=True, text=True, timeout=60)
        if p.returncode:
            fail("%s -M %s -dump-vmstate: exit %d: %s" % (binary, m, p.returncode, p.stderr.strip()))
            return
        dumps[key] = path
    # Two versions of one machine type from one binary: the dump cannot show
    # compat properties, so only the machine type differs.
    doc = expect("virt-7.1 vs virt-7.2", dumps["virt-7.1"], dumps["virt"], 3,
                 [("forward", "probably-no", "", "", "machine")])
    if len(facts(doc, "forward")) != 1:
        fail("virt-7.1 vs virt-7.2: %r" % facts(doc, "forward")[:5])
    # Another architecture: aarch64's virt has every arm device type and more.
    if a64:
        expect("arm virt vs aarch64 virt", dumps["virt"], dumps["aarch64-virt"], 3,
               [("backward", "probably-no", "sbsa_gwdt", "", "section"),
                ("forward", "yes", "sbsa_gwdt", "", "section")],
               {"forward": "yes", "backward": "probably-no"})
    # The same dump both ways: virt is versioned (virt-7.2): yes, no fact at all.
    doc = expect("virt vs virt", dumps["virt"], dumps["virt"], 0, [], {"forward": "yes", "backward": "yes"})
    if facts(doc, "forward") or facts(doc, "backward"):
        fail("virt vs virt: facts %r" % facts(doc, "forward")[:5])
    # Different machine types of one release: only the machine fact.
    doc = expect("lm3s811evb vs mps2-an385", dumps["lm3s811evb"], dumps["mps2-an385"], 3,
                 [("forward", "probably-no", "", "", "machine")])
    if len(facts(doc, "forward")) != 1:
        fail("lm3s811evb vs mps2-an385: %r" % facts(doc, "forward")[:5])
    one_line_error("--machine on QEMU dumps", ["compat", dumps["lm3s811evb"], dumps["mps2-an385"],
                                               "--machine", "lm3s811evb"], "mps2-an385")

    # vmstress's descriptions against QEMU's: no fact on a shared type, for
    # the machine type that keeps QEMU 7.2's format (docs/compat.md).
    own = os.path.join(WORK, "own.json")
    run("dump-vmstate", own, "--board", "vmstress-m0-1.0")
    st, doc = compat_json(dumps["virt"], own)
    for direction in ("forward", "backward"):
        bad = [f for f in facts(doc, direction) if f[1] in SHARED]
        if bad:
            fail("vmstress vs QEMU virt, %s: facts on shared types %r" % (direction, bad))

    # QEMU's own descriptions, mutated: each change named where it is. Only
    # the sections concerned are kept, so these runs stay small.
    full = json.load(open(dumps["virt"]))
    virt = {k: full[k] for k in ("vmschkmachine", "pl011", "pl031", "cmsdk-apb-watchdog")}
    dumps["virt"] = write("q-base.json", virt)

    def ptimer_limit(d):
        wd = fields_of(d, "cmsdk-apb-watchdog")
        timer = next(f for f in wd if f["field"] == "timer")
        next(f for f in timer["Description"]["Fields"] if f["field"] == "limit")["size"] = 4
    expect("QEMU: nested size change", dumps["virt"], write("q-size.json", mutated(virt, ptimer_limit)), 4,
           [("forward", "no", "cmsdk-apb-watchdog", "timer.limit", "size")])

    def nested_only_new(d):
        f = fields_of(d, "pl031")[0]
        f["Description"] = {"name": "planted", "version_id": 1, "minimum_version_id": 1,
                            "Fields": [field("x")]}
    expect("QEMU: nested description only in NEW", dumps["virt"],
           write("q-nested.json", mutated(virt, nested_only_new)), 4,
           [("forward", "no", "pl031", fields_of(virt, "pl031")[0]["field"], "description")])

    def drop_muldiv(d):
        wd = fields_of(d, "cmsdk-apb-watchdog")
        del next(f for f in wd if f["field"] == "wdogclk")["Description"]["Subsections"]
    expect("QEMU: subsection only in OLD", dumps["virt"], write("q-sub.json", mutated(virt, drop_muldiv)), 0,
           [("forward", "probably-yes", "cmsdk-apb-watchdog", "wdogclk.clock/muldiv", "subsection"),
            ("backward", "yes", "cmsdk-apb-watchdog", "wdogclk.clock/muldiv", "subsection")])


def golden():
    import glob
    frozen = sorted(glob.glob(os.path.join(sys.argv[4], "*", "vmstate-*.json")))
    if not frozen:
        fail("no frozen release under %s (ci/release-freeze writes them)" % sys.argv[4])
    for path in frozen:
        # Today's dump of the same versioned machine type (the folder's name).
        machine = os.path.basename(os.path.dirname(path))
        today = os.path.join(WORK, "today-%s.json" % machine)
        st, out, err = run("dump-vmstate", today, "--board", machine)
        if st:
            fail("dump-vmstate --board %s: %d %s" % (machine, st, err))
            continue
        st, doc = compat_json(path, today, "--direction", "forward", "--machine", machine)
        if st != 0:
            bad = ["%s %s %s [%s]: %s" % (f["grade"], f["section"], f["path"], f["kind"], f["reason"])
                   for f in doc.get("forward", {}).get("facts", []) if f["grade"] not in ("yes", "probably-yes")]
            fail("streams of %s would not load today (or refreeze deliberately): %s" % (path, "; ".join(bad)))
        # The same check catches a field added without a version bump, by name.
        base = json.load(open(today))
        planted = write("planted.json", mutated(base, lambda d: fields_of(d, "pl011").append(field("planted"))))
        expect("planted field against " + path, path, planted, 4, [("forward", "no", "pl011", "planted", "field")])


os.makedirs(WORK, exist_ok=True)
{"own": own, "qemu": qemu, "golden": golden}[MODE]()
print("%s: %s" % (MODE, "%d failures" % len(failures) if failures else "ok"))
sys.exit(1 if failures else 0)
