#!/usr/bin/env python3
"""ctest ci_config: the example CI files parse and say what the docs say.

Every workflow, the GitLab example and the ClusterFuzzLite/OSS-Fuzz project
files are parsed with a real YAML parser (python3-yaml), then checked: the
nightly workflow restores and saves the work folder it points VMSTRESS_WORK
at and uploads the artefact folder; the ClusterFuzzLite workflows cover PR
fuzzing, batch fuzzing and pruning with the repository's .clusterfuzzlite/;
the GitLab job caches its work folder and reports junit.xml; the two
Dockerfiles install the same packages and copy files that exist.
usage: ci_config_test.py SOURCE_ROOT
"""
import glob
import os
import re
import sys

import yaml

root = sys.argv[1]
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


def load(path):
    with open(os.path.join(root, path)) as f:
        return yaml.safe_load(f)


def steps(wf):
    for job in wf["jobs"].values():
        for s in job.get("steps", []):
            yield s


workflows = {}
for p in sorted(glob.glob(os.path.join(root, ".github/workflows/*.yml"))):
    rel = os.path.relpath(p, root)
    wf = load(rel)
    workflows[os.path.basename(p)] = wf
    # YAML 1.1 reads the key `on` as true.
    check(("on" in wf or True in wf) and wf.get("jobs"), rel + ": no trigger or no jobs")
    for s in steps(wf):
        check(("uses" in s) != ("run" in s), "%s: a step needs exactly one of uses/run: %s" % (rel, s))

n = workflows.get("nightly.yml")
check(n is not None, "no .github/workflows/nightly.yml")
if n:
    job = n["jobs"]["nightly"]
    work = job["env"]["VMSTRESS_WORK"]
    uses = {s.get("uses", "").split("@")[0]: s for s in steps(n)}
    for a in ("actions/cache/restore", "actions/cache/save", "actions/upload-artifact", "actions/checkout"):
        check(a in uses, "nightly.yml: no " + a)
    if "actions/cache/restore" in uses and "actions/cache/save" in uses:
        r, s = uses["actions/cache/restore"]["with"], uses["actions/cache/save"]["with"]
        check(r["path"] == s["path"] == "${{ env.VMSTRESS_WORK }}", "nightly.yml: cache path is not VMSTRESS_WORK")
        check(s["key"].startswith(r["restore-keys"]), "nightly.yml: saved key not found by restore-keys")
        check(uses["actions/cache/save"].get("if") == "always()", "nightly.yml: the cache is not saved on failure")
    resolved = os.path.normpath(work.replace("${{ github.workspace }}", "/ws/repo"))
    check(not (resolved + "/").startswith("/ws/repo/"), "nightly.yml: VMSTRESS_WORK inside the checkout")
    arts = [s["with"]["path"] for s in steps(n) if s.get("uses", "").startswith("actions/upload-artifact")]
    check(any("reports/nightly/" in a for a in arts), "nightly.yml: the artefact folder is not uploaded")
    check(any(s.get("run", "").startswith("ci/nightly") for s in steps(n)), "nightly.yml: does not run ci/nightly")

modes = set()
for name, wf in workflows.items():
    if not name.startswith("cflite_"):
        continue
    us = [s.get("uses", "") for s in steps(wf)]
    check(any(u.startswith("google/clusterfuzzlite/actions/build_fuzzers@") for u in us), name + ": no build_fuzzers")
    for s in steps(wf):
        if s.get("uses", "").startswith("google/clusterfuzzlite/actions/build_fuzzers@"):
            check(s["with"].get("language") == "c", name + ": build_fuzzers language is not c")
        if s.get("uses", "").startswith("google/clusterfuzzlite/actions/run_fuzzers@"):
            modes.add(s["with"].get("mode"))
            check(int(s["with"].get("fuzz-seconds", 0)) > 0, name + ": no fuzz-seconds")
check({"code-change", "batch", "prune"} <= modes, "ClusterFuzzLite modes present: %s" % sorted(m for m in modes if m))

check(load(".clusterfuzzlite/project.yaml").get("language") == "c", ".clusterfuzzlite/project.yaml: language")
check(load("fuzz/oss-fuzz/project.yaml").get("language") == "c", "fuzz/oss-fuzz/project.yaml: language")

g = load("docs/ci/gitlab-ci.yml")["nightly"]
check(g["artifacts"]["reports"]["junit"] == "reports/nightly/junit.xml", "gitlab: junit report path")
check(g["artifacts"].get("when") == "always" and g["cache"].get("when") == "always", "gitlab: kept only on success")
work = g["variables"]["VMSTRESS_WORK"].replace("$CI_PROJECT_DIR/", "")
check(any(p.rstrip("/") == work for p in g["cache"]["paths"]), "gitlab: the cache is not the work folder")
check(any("ci/nightly" in l for l in g["script"]), "gitlab: does not run ci/nightly")


def apt_packages(path):
    text = open(os.path.join(root, path)).read().replace("\\\n", " ")
    m = re.search(r"apt-get install -y ([^&\n]+)", text)
    return sorted(m.group(1).split()) if m else []


def copies(path, base):
    text = open(os.path.join(root, path)).read()
    return [os.path.join(base, c.split()[0]) for c in re.findall(r"^COPY (\S+ \S+)", text, re.M)]


a, b = apt_packages(".clusterfuzzlite/Dockerfile"), apt_packages("fuzz/oss-fuzz/Dockerfile")
check(a and a == b, "the two Dockerfiles install different packages: %s vs %s" % (a, b))
for src in copies(".clusterfuzzlite/Dockerfile", "") + copies("fuzz/oss-fuzz/Dockerfile", "fuzz/oss-fuzz"):
    check(os.path.exists(os.path.join(root, src)), "Dockerfile copies a missing file: " + src)

if errors:
    for e in errors:
        print("FAIL: " + e)
    sys.exit(1)
print("ok: %d workflows, ClusterFuzzLite modes %s, GitLab job, Dockerfiles (%s)"
      % (len(workflows), sorted(modes), " ".join(a)))
