#!/usr/bin/env python3
"""readme_commands.py SOURCE_DIR BUILD_DIR WORK_DIR - every command README.md
shows must exist and run as shown.

The commands are read from README.md itself, so a command added there is
tested without touching this file:
  - every line of a ```sh block (text after "  # " is a comment);
  - every "$ command" line of a plain ``` block; the lines after it, up to
    the next "$" line, are output: each must appear in the command's output,
    in the same order (the README may leave lines out, e.g. timings), and
    the exit status must be 1 if it shows a finding (a DIVERGENCE, or a
    lint line naming a member), else 0.
All commands run in README order in one fresh WORK_DIR, so a later command
can use a file an earlier one wrote (the example's results/repro.json,
save's stream.bin), each bounded by a timeout and ended with its process
group if it overruns.

How a command is run depends on its first word:
  vmstress ...      The subcommand must be listed by `vmstress --help` and
                    every --option must be in `vmstress SUB --help` (of the
                    shipped binary). It is run with vmstress-planted, which the
                    README describes as the same command linked with test-only
                    variants, so `vmstress replay results/repro.json` replays
                    the example's planted divergence (expected status 1, "the
                    same divergence again"); every other one must exit 0.
                    A synopsis line ("[--opt X | --opt Y]" groups) is run once
                    per alternative, with every optional group given.
                    Placeholders (upper-case words) are replaced from
                    PLACEHOLDERS below; an unknown placeholder is a failure.
  build/default/... A file of the build (build/default/ stands for BUILD_DIR,
                    so the asan build tests itself); run as shown (benchmarks
                    print figures, nothing about them is judged but the exit).
  ci/..., bench/... A script of the source tree, which must exist, be
                    executable and pass `bash -n`. Its usage (the first
                    "usage: NAME ARGS" or "# NAME ARGS:" line of its --help or
                    header) must name every argument the README shows. These
                    are whole CI jobs (set-up with apt-get, builds of every
                    preset, fuzzing for minutes), so they are run only with
                    --help, which must exit 0 and print that usage, when the
                    script handles --help; otherwise they are checked as above
                    without running, and the test says so.
Anything else (an unknown binary) is a failure.

The ```sh commands of docs/*.md are checked the same way but not run (they
are whole jobs, or need files from earlier steps or other presets' builds):
vmstress subcommands and options against --help, build/default/ files must
exist (other presets' builds are not checked), ci/ and bench/ scripts as
above, anything else must be a program on PATH (genhtml, git).
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

TIMEOUT = 120           # seconds per command; the README's commands take a few
# Placeholder -> value. Numbers depend on the option before them; the values
# keep every command cheap (the README marks them as placeholders).
PLACEHOLDERS = {
    ("--seed", "N"): "7",
    ("--checkpoints", "N"): "20",
    ("--cycles", "N"): "100000",
    ("--jobs", "N"): "2",
    ("--duration", "S"): "1",
    (None, "FIRMWARE.elf"): "build/default/guest/hello.elf",
    # Two -dump-vmstate files: the one `vmstress dump-vmstate out.json` wrote.
    (None, "OLD.json"): "out.json",
    (None, "NEW.json"): "out.json",
}
# Expected exit status by vmstress subcommand, from the README's comments.
STATUS = {"replay": 1}

failures = []
doc = "README.md"           # the file whose commands are being checked


def fail(cmd, msg):
    failures.append(f"{doc} command `{cmd}`: {msg}")
    print(f"FAIL `{cmd}`: {msg}")


def readme_commands(text):
    """Yields (kind, command, expected output lines) in README order."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, body = m.group(1), []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        if lang == "sh":
            for line in join_continuations(body):
                cmd = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
                if cmd:
                    yield "sh", cmd, None
        elif lang == "" and body and body[0].startswith("$ "):
            cmd, out = None, []
            for line in body:
                if line.startswith("$ "):
                    if cmd:
                        yield "example", cmd, out
                    cmd, out = line[2:].strip(), []
                else:
                    out.append(line)
            yield "example", cmd, out


def join_continuations(body):
    acc = ""
    for line in body:
        if line.rstrip().endswith("\\"):
            acc += line.rstrip()[:-1] + " "
        else:
            yield acc + line
            acc = ""


def is_placeholder(word):
    return re.fullmatch(r"[A-Z][A-Z0-9_-]*(\.[a-z]+)?", word) is not None


def expand_synopsis(cmd):
    """`a [--x N] [--y | --z]` -> one word list per alternative of the
    alternation groups, every optional group given."""
    groups = re.findall(r"\[([^\]]*)\]|(\S+)", cmd)
    alts = [g[0].split("|") if g[0] else [g[1]] for g in groups]
    width = max(len(a) for a in alts)
    return [" ".join(a[min(k, len(a) - 1)].strip() for a in alts).split() for k in range(width)]


def substitute(cmd, words, build):
    out = []
    for k, w in enumerate(words):
        if is_placeholder(w):
            prev = words[k - 1] if k else None
            val = PLACEHOLDERS.get((prev, w), PLACEHOLDERS.get((None, w)))
            if val is None:
                fail(cmd, f"placeholder '{w}' after '{prev}' has no value in tests/docs/readme_commands.py")
                return None
            w = val
        out.append(re.sub(r"^build/default/", build + "/", w))
    return out


def run(argv, work, env, timeout=TIMEOUT):
    """Runs argv in its own process group; returns (status, output)."""
    started = time.monotonic()
    p = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        if os.environ.get("README_TIMES"):
            print(f"  {time.monotonic() - started:.1f} s: {' '.join(argv)}")
        return p.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return None, out.decode(errors="replace") + f"\n(timed out after {timeout} s)"


def check_vmstress(cmd, words, ctx, execute=True):
    vm = ctx["vmstress"]
    if len(words) < 2:
        return fail(cmd, "no subcommand")
    sub = words[1]
    status, top = run([vm, "--help"], ctx["work"], ctx["env"])
    if sub.startswith("-"):
        # A top-level option (vmstress --version): named by --help, exits 0.
        if not re.search(rf"(?<![\w-]){re.escape(sub)}(?![\w-])", top):
            return fail(cmd, f"`vmstress --help` does not name option {sub}")
        status, out = run([vm] + words[1:], ctx["work"], ctx["env"]) if execute else (0, "")
        if status != 0:
            fail(cmd, f"exited {status}, want 0:\n{out}")
        return print(f"{'ran' if execute else 'checked'} `{cmd}`")
    if not re.search(rf"^\s+{re.escape(sub)}\s", top, re.M):
        return fail(cmd, f"`vmstress --help` lists no subcommand '{sub}'")
    status, helptext = run([vm, sub, "--help"], ctx["work"], ctx["env"])
    if status != 0:
        return fail(cmd, f"`vmstress {sub} --help` exited {status}")
    for opt in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", cmd):
        if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", helptext):
            fail(cmd, f"`vmstress {sub} --help` does not know option {opt}")
    if not execute:
        return print(f"checked `vmstress {sub}` and its options")
    want = STATUS.get(sub, 0)
    for variant in expand_synopsis(" ".join(words)):
        argv = substitute(cmd, variant, ctx["build"])
        if argv is None:
            return
        argv[0] = ctx["planted"]
        status, out = run(argv, ctx["work"], ctx["env"])
        shown = " ".join(variant)
        print(f"ran `{shown}`: exit {status}")
        if status != want:
            fail(cmd, f"`{shown}` exited {status}, want {want}:\n{out}")


def check_build_file(cmd, words, ctx, expect):
    argv = substitute(cmd, words, ctx["build"])
    if argv is None:
        return
    if not os.access(argv[0], os.X_OK):
        return fail(cmd, f"{argv[0]} is not an executable of the build")
    status, out = run(argv, ctx["work"], ctx["env"])
    print(f"ran `{cmd}`: exit {status}")
    want = 0
    if expect is not None:
        want = 1 if any(line.startswith("DIVERGENCE") or re.match(r"lint: \S+ member ", line)
                        for line in expect) else 0
        pos = 0
        got = out.split("\n")
        for line in expect:
            while pos < len(got) and got[pos] != line:
                pos += 1
            if pos == len(got):
                fail(cmd, f"output shown in the README is not printed (in order): '{line}'\n{out}")
                break
            pos += 1
    if status != want:
        fail(cmd, f"exited {status}, want {want}:\n{out}")


def script_usage(path, text):
    """The script's usage line, from its --help (if it has one) or header."""
    name = os.path.relpath(path, os.path.dirname(os.path.dirname(path)))
    if "--help" in text:
        status, out = run([path, "--help"], os.path.dirname(path), None, timeout=30)
        if status != 0:
            return None, f"`{name} --help` exited {status}: {out}"
        source, ran = out, True
    else:
        source = "\n".join(re.sub(r"^#\s?", "", l) for l in text.split("\n") if l.startswith("#"))
        ran = False
    base = os.path.basename(path)
    name_re = rf"(?:\S*/)?{re.escape(base)}(?=[\s:]|$)([^:\n]*)"
    m = (re.search(rf"^\s*usage:\s*{name_re}", source, re.M) or
         re.search(rf"^\s*{name_re}", source, re.M))
    if not m:
        return None, f"{name} states no usage line ('usage: {name} ARGS')"
    return (m.group(1), ran), None


def check_script(cmd, words, ctx):
    path = os.path.join(ctx["source"], words[0])
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return fail(cmd, f"{words[0]} is not an executable file of the source tree")
    text = open(path, errors="replace").read()
    if text.startswith("#!") and "bash" in text.split("\n")[0]:
        status, out = run(["bash", "-n", path], ctx["work"], None, timeout=30)
        if status != 0:
            return fail(cmd, f"bash -n: {out}")
    usage, err = script_usage(path, text)
    if err:
        return fail(cmd, err)
    args, ran = usage
    # Placeholders the README shows (TARGET, [minutes]) must be named by the
    # usage; concrete arguments (a path) only need a slot.
    slots = re.findall(r"\[[^\]]*\]|\b[A-Z][A-Z0-9_-]+\b", args)
    for arg in words[1:]:
        bare = arg.strip("[]")
        if (arg.startswith("[") or is_placeholder(arg)) and bare.lower() not in args.lower():
            fail(cmd, f"{words[0]}'s usage '{args.strip()}' does not name '{arg}'")
    if len(words) - 1 > len(slots):
        fail(cmd, f"{words[0]}'s usage '{args.strip()}' takes fewer arguments than the README gives")
    print(f"{'ran' if ran else 'checked (no --help to run)'} `{words[0]}`: usage '{words[0]}{args.rstrip()}'")


def check_doc_command(cmd, ctx):
    """A command of docs/*.md: checked, not run (they are whole jobs, take
    files from earlier steps or builds of other presets)."""
    words = shlex.split(cmd)
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0], re.S):
        words = words[1:]           # FUZZ_JOBS=1 ci/fuzz ...
    prog = re.sub(r"^build/default/harness/cli/", "", words[0])
    if prog == "vmstress":
        check_vmstress(cmd, ["vmstress"] + words[1:], ctx, execute=False)
    elif words[0].startswith("build/default/"):
        path = os.path.join(ctx["build"], words[0][len("build/default/"):])
        if not os.access(path, os.X_OK):
            fail(cmd, f"{words[0]} is not an executable of the build")
    elif re.match(r"build/\w+/", words[0]):
        print(f"not checked `{words[0]}`: another preset's build")
    elif re.match(r"(ci|bench)/", words[0]):
        check_script(cmd, words, ctx)
    elif not shutil.which(words[0]):
        fail(cmd, f"no program '{words[0]}' on PATH (nor vmstress, build/, ci/ or bench/)")


def main():
    source, build, work = (os.path.abspath(a) for a in sys.argv[1:4])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = dict(os.environ, VMSTRESS_GUEST_DIR=os.path.join(build, "guest"))
    ctx = {
        "source": source, "build": build, "work": work, "env": env,
        "vmstress": os.path.join(build, "harness/cli/vmstress"),
        "planted": os.path.join(build, "tests/planted/vmstress-planted"),
    }
    text = open(os.path.join(source, "README.md")).read()
    n = 0
    for kind, cmd, expect in readme_commands(text):
        n += 1
        words = shlex.split(cmd)
        if words[0] == "vmstress":
            check_vmstress(cmd, words, ctx)
        elif words[0].startswith("build/default/"):
            check_build_file(cmd, words, ctx, expect)
        elif re.match(r"(ci|bench)/", words[0]):
            check_script(cmd, words, ctx)
        else:
            fail(cmd, f"unknown program '{words[0]}' (not vmstress, build/default/..., ci/ or bench/)")
    if n < 10:
        fail("README.md", f"only {n} commands found: the parser lost the ```sh blocks")
    global doc
    docs = sorted(f for f in os.listdir(os.path.join(source, "docs")) if f.endswith(".md"))
    for name in docs:
        doc = "docs/" + name
        for kind, cmd, expect in readme_commands(open(os.path.join(source, doc)).read()):
            n += 1
            check_doc_command(cmd, ctx)
    print(f"{n} commands (README.md run, docs/*.md checked), {len(failures)} failures")
    for f in failures:
        print("FAIL", f.split("\n")[0])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
