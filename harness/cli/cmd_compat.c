/*
 * cmd_compat.c - `vmstress compat OLD.json NEW.json`: the static checker
 * (harness/compat) over two -dump-vmstate files, in one or both directions.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "compat.h"

static const char compat_usage[] =
    "usage: vmstress compat OLD.json NEW.json [--machine T] [--direction forward|backward|both]\n"
    "                       [--json]\n"
    "\n"
    "Compares two -dump-vmstate files (vmstress dump-vmstate, or QEMU's -dump-vmstate\n"
    "for any architecture) without running anything. forward: a stream saved by OLD\n"
    "loaded by NEW; backward: saved by NEW, loaded by OLD; both is the default.\n"
    "Each difference is a fact graded yes, probably-yes, no-idea, probably-no or no,\n"
    "with its reason; a direction's verdict is its worst grade (docs/compat.md).\n"
    "\n"
    "  --machine T     both dumps must be of machine type T (vmschkmachine.Name)\n"
    "  --direction D   forward, backward or both\n"
    "  --json          one JSON object on stdout instead of text\n"
    "\n"
    "Exit status: the worst verdict: 0 yes or probably-yes, 3 probably-no, 4 no,\n"
    "5 no-idea; 2 usage or input error (unreadable or malformed dump).\n";

typedef struct CompatOpts {
    const char *old, *new_;
    const char *machine;
    bool forward, backward, json;
} CompatOpts;

/* 0 parsed, else the exit status (help or usage error). */
static int parse(int argc, char **argv, CompatOpts *o)
{
    static const struct option opts[] = {
        { "machine", required_argument, NULL, 'm' },
        { "direction", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    *o = (CompatOpts){ .forward = true, .backward = true };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o->machine = optarg; break;
        case 'j': o->json = true; break;
        case 'h': fputs(compat_usage, stdout); return -1;
        case 'd':
            o->forward = !strcmp(optarg, "forward") || !strcmp(optarg, "both");
            o->backward = !strcmp(optarg, "backward") || !strcmp(optarg, "both");
            if (!o->forward && !o->backward) {
                fprintf(stderr, "vmstress compat: --direction wants forward, backward or both, "
                                "got '%s'\n", optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "vmstress compat: unknown or incomplete option '%s' (try --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "vmstress compat: wants two dumps, OLD.json and NEW.json, got %d "
                        "argument(s) (try --help)\n", argc - optind);
        return 2;
    }
    o->old = argv[optind];
    o->new_ = argv[optind + 1];
    return 0;
}

/* A parsed, shape-checked dump, or NULL after a one-line error. */
static json_t *load_dump(const char *path, const char *machine)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        fprintf(stderr, "vmstress compat: %s: not a regular file\n", path);
        return NULL;
    }
    json_error_t e;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        if (e.line > 0)
            fprintf(stderr, "vmstress compat: %s: line %d column %d: %s\n", path, e.line,
                    e.column, e.text);
        else
            fprintf(stderr, "vmstress compat: %s: %s\n", path, e.text);
        return NULL;
    }
    char err[1200];
    if (!compat_validate(j, err, sizeof err)) {
        fprintf(stderr, "vmstress compat: %s: %s\n", path, err);
        json_decref(j);
        return NULL;
    }
    const char *m = compat_machine(j);
    if (machine && (!m || strcmp(m, machine))) {
        fprintf(stderr, "vmstress compat: %s: machine type '%s', not '%s' (--machine)\n", path,
                m ? m : "(none: no $.vmschkmachine.Name)", machine);
        json_decref(j);
        return NULL;
    }
    return j;
}

static void print_report(const char *dir, const char *src, const char *dst, const CompatReport *r)
{
    printf("%s: %s (source) -> %s (destination): %s  (%zu sections compared, %zu facts)\n", dir,
           src, dst, compat_grade_name(r->verdict), r->sections, r->n);
    for (size_t i = 0; i < r->n; i++) {
        const CompatFact *f = &r->facts[i];
        printf("  %-12s %s%s%s [%s]: %s\n", compat_grade_name(f->grade),
               *f->section ? f->section : "(machine)", *f->path ? " " : "", f->path, f->kind,
               f->reason);
    }
}

int cmd_compat(int argc, char **argv)
{
    CompatOpts o;
    int st = parse(argc, argv, &o);
    if (st)
        return st < 0 ? 0 : st;
    json_t *old = load_dump(o.old, o.machine);
    json_t *new_ = old ? load_dump(o.new_, o.machine) : NULL;
    if (!new_) {
        json_decref(old);
        return 2;
    }
    CompatReport fwd = { 0 }, bwd = { 0 };
    CompatGrade worst = COMPAT_YES;
    if (o.forward) {
        compat_check(old, new_, &fwd);
        worst = fwd.verdict;
    }
    if (o.backward) {
        compat_check(new_, old, &bwd);
        worst = bwd.verdict > worst ? bwd.verdict : worst;
    }
    if (o.json) {
        json_t *out = json_pack("{s:s, s:s, s:s, s:i}", "old", o.old, "new", o.new_,
                                "verdict", compat_grade_name(worst), "exit",
                                compat_grade_exit(worst));
        if (o.forward)
            json_object_set_new(out, "forward", compat_report_json(&fwd));
        if (o.backward)
            json_object_set_new(out, "backward", compat_report_json(&bwd));
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s ? s : "{}");
        free(s);
        json_decref(out);
    } else {
        if (o.forward)
            print_report("forward", o.old, o.new_, &fwd);
        if (o.backward)
            print_report("backward", o.new_, o.old, &bwd);
    }
    compat_report_free(&fwd);
    compat_report_free(&bwd);
    json_decref(old);
    json_decref(new_);
    return compat_grade_exit(worst);
}
