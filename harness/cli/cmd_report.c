/*
 * cmd_report.c - `vmstress report`: field-coverage data in, reports out.
 *
 * Data files are merged in memory (the same merge runs use), the field
 * universe of this build is added so that never-touched fields show up,
 * optional stream files are loaded to count fuzz/replay loads, and then
 * any of: merged data, summary table, HTML, lcov tracefile, baseline,
 * ratchet check.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fieldcov.h"
#include "machine.h"

#define DEFAULT_DATA "reports/fields.json"
#define DEFAULT_BOARD_NAME "vmstress-m0"

static const char report_usage[] =
    "usage: vmstress report [DATA.json ...] [options]\n"
    "\n"
    "Field coverage: for every field of every description, how often it was\n"
    "saved with a value other than its reset value, how many distinct values it\n"
    "took, whether fuzzed or replayed streams loaded it, which validators\n"
    "rejected it. DATA files (from `vmstress run --field-coverage FILE`, or\n"
    "from --output) are merged; with none, " DEFAULT_DATA " is read. Prints a\n"
    "summary table: per description, fields, fields that reached a non-reset\n"
    "value, percentage; then the fields never covered.\n"
    "\n"
    "  --streams PATH        load a migration stream file, or every file in a\n"
    "                        directory, into a power-on machine and count its\n"
    "                        fields as fuzz/replay loads (repeatable)\n"
    "  --board NAME          machine for every --streams file (default: the board\n"
    "                        each stream names in its configuration section)\n"
    "  --output FILE         write the merged data (the fields.json format)\n"
    "  --merge-into FILE     merge the data into FILE (locked; for parallel jobs)\n"
    "  --html FILE           self-contained HTML report (sortable, no network)\n"
    "  --lcov FILE           lcov tracefile: one source per description, one\n"
    "                        line per field, hits = non-reset saves\n"
    "  --lcov-src DIR        where the pseudo sources go (default: FILE.src)\n"
    "  --reasons FILE        JSON {\"desc/field\": \"why it is never covered\"};\n"
    "                        keys \"desc/field:0xMASK\" and \"desc/field[i]:0xMASK\"\n"
    "                        explain bits never seen as 0 or as 1 (the summary\n"
    "                        ends with bit coverage and the unexplained bits)\n"
    "  --write-baseline FILE write the fields covered now as a ratchet baseline\n"
    "  --baseline-min N      ... only those with at least N non-reset saves\n"
    "                        (default 20: rarely covered fields make a flaky ratchet)\n"
    "  --ratchet BASELINE    exit 1, one line per field, if a field covered in\n"
    "                        BASELINE is not covered now\n"
    "  --quiet               no summary table\n"
    "  --help                this text\n"
    "\n"
    "Exit status: 0 fine, 1 the ratchet lost fields, 2 usage or input error.\n";

/* One power-on machine per board the streams name, built on first use: a
 * stream is loaded on the board it was saved on (corpora are made on the
 * small fuzz board), unless --board forces one. */
#define LOADER_BOARDS 8

typedef struct BoardMachine {
    const Board *board;
    Machine *m;
    FcovAttach *att;
} BoardMachine;

typedef struct StreamLoader {
    Fcov *fc;
    const Board *forced;        /* --board, or NULL: the stream's own */
    BoardMachine mach[LOADER_BOARDS];
    size_t n_mach;
    unsigned files, accepted;
} StreamLoader;

/* The machine for a stream: --board, else the board its configuration
 * section names, else the default board (as `vmstress load` does). */
static BoardMachine *loader_machine(StreamLoader *L, const uint8_t *buf, size_t len)
{
    char name[64];
    const char *type = vms_stream_machine_type(buf, len, name, sizeof(name));
    const Board *b = L->forced;
    if (!b && type)
        b = mach_board_find(type);
    if (!b)
        b = mach_board_find(DEFAULT_BOARD_NAME);
    for (size_t i = 0; i < L->n_mach; i++)
        if (L->mach[i].board == b)
            return &L->mach[i];
    if (!b || L->n_mach == LOADER_BOARDS) {
        fprintf(stderr, "vmstress report: no machine for board '%s'\n", type ? type : DEFAULT_BOARD_NAME);
        return NULL;
    }
    VmsMsg why = { { 0 } };
    Machine *m = mach_new(b, &why);
    if (!m) {
        fprintf(stderr, "vmstress report: cannot build board '%s': %s\n", b->name, why.text);
        return NULL;
    }
    mach_reset(m);
    BoardMachine *bm = &L->mach[L->n_mach++];
    bm->board = b;
    bm->m = m;
    bm->att = fcov_attach_machine(L->fc, m, FCOV_SRC_FUZZ, FCOV_LOADS | FCOV_MANUAL_END);
    return bm;
}

static bool load_one(StreamLoader *L, const char *path)
{
    uint8_t *buf;
    size_t len;
    if (!cli_read_file("report", path, &buf, &len))
        return false;
    BoardMachine *bm = loader_machine(L, buf, len);
    if (!bm) {
        free(buf);
        return false;
    }
    VmsError err;
    L->files++;
    bool ok = mach_load(bm->m, buf, len, &err);
    L->accepted += ok;
    /* Accepted means by the whole machine, not only by the engine. */
    fcov_load_end(bm->att, NULL, ok ? NULL : &err);
    free(buf);
    return true;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every regular file of a directory in name order (deterministic). */
static bool load_path(StreamLoader *L, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "vmstress report: --streams %s: %s\n", path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode))
        return load_one(L, path);
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "vmstress report: --streams %s: %s\n", path, strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof(char *));
        if (!names || !(names[n] = strdup(e->d_name)))
            abort();
        n++;
    }
    closedir(dir);
    qsort(names, n, sizeof(char *), name_cmp);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", path, names[i]);
        if (ok && stat(p, &st) == 0 && S_ISREG(st.st_mode))
            ok = load_one(L, p);
        free(names[i]);
    }
    free(names);
    return ok;
}

static json_t *read_reasons(const char *path)
{
    json_error_t je;
    VmsMsg why;
    FILE *f = vms_open_input(path, &why);
    if (!f) {
        fprintf(stderr, "vmstress report: %s\n", why.text);
        return NULL;
    }
    json_t *j = json_loadf(f, 0, &je);
    if (f != stdin)
        fclose(f);
    if (!j) {
        if (je.line > 0)
            fprintf(stderr, "vmstress report: %s:%d: %s\n", path, je.line, je.text);
        else
            fprintf(stderr, "vmstress report: %s: %s\n", path, je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        fprintf(stderr, "vmstress report: %s: not a JSON object of \"desc/field\": \"reason\"\n", path);
        json_decref(j);
        return NULL;
    }
    return j;
}

typedef struct ReportOpts {
    const char *board, *output, *merge_into, *html, *lcov, *lcov_src, *reasons, *baseline_out,
        *ratchet;
    const char *streams[64];
    size_t n_streams;
    uint64_t baseline_min;
    bool quiet;
} ReportOpts;

static int parse_opts(int argc, char **argv, ReportOpts *o)
{
    enum { O_STREAMS = 256, O_BOARD, O_OUTPUT, O_MERGE, O_HTML, O_LCOV, O_LCOVSRC, O_REASONS,
           O_WBASE, O_RATCHET, O_QUIET, O_HELP, O_BMIN };
    static const struct option opts[] = {
        { "streams", required_argument, 0, O_STREAMS },  { "board", required_argument, 0, O_BOARD },
        { "output", required_argument, 0, O_OUTPUT },    { "merge-into", required_argument, 0, O_MERGE },
        { "html", required_argument, 0, O_HTML },        { "lcov", required_argument, 0, O_LCOV },
        { "lcov-src", required_argument, 0, O_LCOVSRC }, { "reasons", required_argument, 0, O_REASONS },
        { "write-baseline", required_argument, 0, O_WBASE },
        { "ratchet", required_argument, 0, O_RATCHET },  { "quiet", no_argument, 0, O_QUIET },
        { "help", no_argument, 0, O_HELP },              { "baseline-min", required_argument, 0, O_BMIN },
        { 0, 0, 0, 0 },
    };
    memset(o, 0, sizeof(*o));
    o->baseline_min = 20;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_STREAMS:
            if (o->n_streams == sizeof(o->streams) / sizeof(o->streams[0])) {
                fprintf(stderr, "vmstress report: too many --streams options\n");
                return 2;
            }
            o->streams[o->n_streams++] = optarg;
            break;
        case O_BOARD: o->board = optarg; break;
        case O_OUTPUT: o->output = optarg; break;
        case O_MERGE: o->merge_into = optarg; break;
        case O_HTML: o->html = optarg; break;
        case O_LCOV: o->lcov = optarg; break;
        case O_LCOVSRC: o->lcov_src = optarg; break;
        case O_REASONS: o->reasons = optarg; break;
        case O_WBASE: o->baseline_out = optarg; break;
        case O_RATCHET: o->ratchet = optarg; break;
        case O_QUIET: o->quiet = true; break;
        case O_BMIN: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "vmstress report: --baseline-min wants a non-negative integer, got '%s'\n",
                        optarg);
                return 2;
            }
            o->baseline_min = v;
            break;
        }
        case O_HELP: fputs(report_usage, stdout); return 0;
        default:
            fprintf(stderr, "vmstress report: unknown option or missing value '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    return -1;
}

static bool load_streams(Fcov *fc, const ReportOpts *o)
{
    StreamLoader L = { .fc = fc };
    if (o->board && !(L.forced = mach_board_find(o->board))) {
        fprintf(stderr, "vmstress report: no board '%s'\n", o->board);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < o->n_streams && ok; i++)
        ok = load_path(&L, o->streams[i]);
    for (size_t i = 0; i < L.n_mach; i++)
        mach_free(L.mach[i].m);
    if (ok && !o->quiet)
        printf("streams: %u loaded, %u accepted\n", L.files, L.accepted);
    return ok;
}

/* Everything after the data is in: the requested outputs. */
static int emit(const Fcov *fc, const ReportOpts *o, const json_t *reasons)
{
    char err[512];
    char src[PATH_MAX];
    if ((o->output && !fcov_write_file(fc, o->output, err, sizeof(err))) ||
        (o->merge_into && !fcov_merge_into_file(fc, o->merge_into, err, sizeof(err))) ||
        (o->html && !fcov_write_html(fc, o->html, reasons, err, sizeof(err))) ||
        (o->baseline_out && !fcov_write_baseline(fc, o->baseline_out, o->baseline_min, err, sizeof(err)))) {
        fprintf(stderr, "vmstress report: %s\n", err);
        return 2;
    }
    if (o->lcov) {
        snprintf(src, sizeof(src), "%s.src", o->lcov);
        if (!fcov_write_lcov(fc, o->lcov, o->lcov_src ? o->lcov_src : src, err, sizeof(err))) {
            fprintf(stderr, "vmstress report: %s\n", err);
            return 2;
        }
    }
    if (!o->quiet)
        fcov_print_summary(fc, stdout, reasons);
    if (o->ratchet) {
        long lost = fcov_ratchet(fc, o->ratchet, stdout, err, sizeof(err));
        if (lost < 0) {
            fprintf(stderr, "vmstress report: %s\n", err);
            return 2;
        }
        if (lost) {
            printf("ratchet: %ld field(s) covered in %s are no longer covered\n", lost, o->ratchet);
            return 1;
        }
        if (!o->quiet)
            printf("ratchet: every field covered in %s is still covered\n", o->ratchet);
    }
    return 0;
}

int cmd_report(int argc, char **argv)
{
    ReportOpts o;
    int st = parse_opts(argc, argv, &o);
    if (st >= 0)
        return st;
    Fcov *fc = fcov_new();
    json_t *reasons = NULL;
    char err[512];
    st = 2;
    if (!fcov_add_shipped(fc, err, sizeof(err))) {
        fprintf(stderr, "vmstress report: %s\n", err);
        goto out;
    }
    if (optind == argc && !o.n_streams) {
        if (!fcov_read_file(fc, DEFAULT_DATA, err, sizeof(err))) {
            fprintf(stderr, "vmstress report: %s (give a data file; see --help)\n", err);
            goto out;
        }
    }
    for (int i = optind; i < argc; i++)
        if (!fcov_read_file(fc, argv[i], err, sizeof(err))) {
            fprintf(stderr, "vmstress report: %s\n", err);
            goto out;
        }
    if (o.n_streams && !load_streams(fc, &o))
        goto out;
    if (o.reasons && !(reasons = read_reasons(o.reasons)))
        goto out;
    st = emit(fc, &o, reasons);
out:
    json_decref(reasons);
    fcov_free(fc);
    return st;
}
